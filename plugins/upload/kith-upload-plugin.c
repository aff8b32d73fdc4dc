/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-plugin.c — the upload GModule: the service plus its D-Bus face */
#include "kith-upload-dbus.h"

static const gchar *const kith_upload_requires[] = { "peering", NULL };

KITH_PLUGIN_DEFINE_SERVICE ("upload", "1.0", kith_upload_requires, kith_upload, KithUpload)
