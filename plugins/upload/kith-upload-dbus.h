/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-dbus.h — org.kith.Upload1 on /org/kith/Agent1/Upload */
#pragma once

#include "kith-upload.h"

G_BEGIN_DECLS

#define KITH_UPLOAD_DBUS_PATH KITH_AGENT_DBUS_PATH "/Upload"

typedef struct _KithUploadDbus KithUploadDbus;

/* Exports @upload (a ref is taken) on @dbus and mirrors its state; caller frees. */
KithUploadDbus *kith_upload_dbus_new (KithUpload *upload, KithDbus *dbus);
/* Withdraws the object and drops the ref. */
void kith_upload_dbus_free (KithUploadDbus *self);

G_END_DECLS
