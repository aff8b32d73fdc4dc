/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-error.c — the vendor backend's error domain */
#include "kith-backend-error.h"

G_DEFINE_QUARK (kith-backend-error-quark, kith_backend_error)
