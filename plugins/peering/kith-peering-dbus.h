/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-dbus.h — org.kith.Peering1 and its org.kith.Transfer1 objects */
#pragma once

#include "kith-peering.h"

G_BEGIN_DECLS

typedef struct _KithPeeringDbus KithPeeringDbus;

/* Exports /org/kith/Agent1/Peering for @peering on @dbus (both kept referenced). */
KithPeeringDbus *kith_peering_dbus_new (KithPeering *peering, KithDbus *dbus);
/* Withdraws every object. */
void kith_peering_dbus_free (KithPeeringDbus *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithPeeringDbus, kith_peering_dbus_free)

G_END_DECLS
