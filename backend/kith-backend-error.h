/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-error.h — the vendor backend's error domain */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KITH_BACKEND_ERROR (kith_backend_error_quark ())

/**
 * KithBackendError:
 * @KITH_BACKEND_ERROR_FAILED: an I/O or crypto failure not covered below
 * @KITH_BACKEND_ERROR_INVALID_ARGS: a malformed command line
 * @KITH_BACKEND_ERROR_NOT_FOUND: the backend directory is missing or not initialised
 * @KITH_BACKEND_ERROR_CORRUPT: the backend directory is damaged (keys, certificates, catalog)
 * @KITH_BACKEND_ERROR_EXISTS: init refuses a directory that is not empty
 * @KITH_BACKEND_ERROR_BAD_RELEASE: publish was given an unusable release directory
 * @KITH_BACKEND_ERROR_ADDRESS_IN_USE: serve cannot listen, the address is taken
 */
typedef enum {
  KITH_BACKEND_ERROR_FAILED,
  KITH_BACKEND_ERROR_INVALID_ARGS,
  KITH_BACKEND_ERROR_NOT_FOUND,
  KITH_BACKEND_ERROR_CORRUPT,
  KITH_BACKEND_ERROR_EXISTS,
  KITH_BACKEND_ERROR_BAD_RELEASE,
  KITH_BACKEND_ERROR_ADDRESS_IN_USE,
} KithBackendError;

GQuark kith_backend_error_quark (void);

G_END_DECLS
