/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-dbus.h — org.kith.Update1 on /org/kith/Agent1/Update, mirroring KithUpdate */
#pragma once

#include "kith-update.h"

G_BEGIN_DECLS

typedef struct _KithUpdateDbus KithUpdateDbus;

/* Exports the interface for @update (a ref is taken) on @dbus; free with kith_update_dbus_free(). */
KithUpdateDbus *kith_update_dbus_new (KithUpdate *update, KithDbus *dbus);
/* Unexports it and drops the ref. */
void kith_update_dbus_free (KithUpdateDbus *self);

G_END_DECLS
