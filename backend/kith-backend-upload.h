/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-backend-upload.h — the backend's trust endpoints for the upload service (docs/architecture.md, "Trust"):
 * POST /enroll issues short-lived node certificates, POST /upload stores reports and
 * answers with receipts signed by the backend.
 *
 * DIR/uploads/ID          a stored report, named by its upload id (written atomically)
 * DIR/uploads/ID.receipt  the signed receipt given for it (the same one on every retry)
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

#define KITH_BACKEND_UPLOADS_DIR "uploads"
/* Default node certificate validity, seconds. */
#define KITH_BACKEND_CERT_VALIDITY (24 * 3600)
/* Largest request accepted by POST /enroll. */
#define KITH_BACKEND_ENROLL_MAX_SIZE (16 * 1024)
/* Largest report accepted by POST /upload. */
#define KITH_BACKEND_UPLOAD_MAX_SIZE (16 * 1024 * 1024)

typedef struct {
  gint64 cert_validity;   /* seconds; 0 for the default */
  guint delay_receipts;   /* ms to hold each receipt back (test knob) */
  gboolean drop_receipts; /* store reports but never answer with a receipt (test knob) */
} KithBackendUploadOptions;

typedef struct _KithBackendUploads KithBackendUploads;

/* The upload endpoints of backend directory @dir; caller frees. */
KithBackendUploads *kith_backend_uploads_new (const gchar *dir, const KithBackendUploadOptions *options);
void kith_backend_uploads_free (KithBackendUploads *self);
/* POST /enroll: {"token", "public_key" (PEM), "node_id", "alias"} → {"certificate": PEM,
 * "expires": unix seconds}; 403 for a wrong token, 400 for anything malformed. */
void kith_backend_uploads_handle_enroll (KithBackendUploads *self, SoupServerMessage *msg);
/* POST /upload: body = the report; headers X-Kith-Upload-Id (32–64 hex), X-Kith-Node (the
 * requester's node id), optional X-Kith-Blacklist → 200 {"receipt": TEXT, "signature":
 * DETACHED-SIGNATURE}; a retry of a stored upload id gets the stored receipt again. */
void kith_backend_uploads_handle_upload (KithBackendUploads *self, SoupServerMessage *msg);
/* POST /upload's head is in (an early handler): when it is acceptable, its body is streamed
 * to a file under DIR/uploads/ as it arrives instead of accumulating in memory. */
void kith_backend_uploads_begin_upload (KithBackendUploads *self, SoupServerMessage *msg);
/* Distinct reports stored since start (retries of one upload id count once). */
guint64 kith_backend_uploads_get_count (KithBackendUploads *self);
/* Node certificates issued since start. */
guint64 kith_backend_uploads_get_enrolled (KithBackendUploads *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithBackendUploads, kith_backend_uploads_free)

G_END_DECLS
