/* kith-upload-verify.h — the requester's checks (design §5, FIG. 9): is an offer from a
 * node the backend trusts, and does a receipt prove the backend stored our report. Pure
 * functions of their inputs so each rule is tested on its own. */
#pragma once

#include "kith-agent.h"
#include "kith-crypto.h"

G_BEGIN_DECLS

/* What a receipt must say about our report. Borrowed strings. */
typedef struct {
  const gchar *upload_id;
  const gchar *sha256;
  guint64 size;
  const gchar *requester;
} KithUploadExpect;

/* Checks @offer (to request @id) against trust anchor @anchor_pem at @now: a certificate
 * that chains to the anchor and is valid, permits "upload", names the offer's node, lists
 * an alias base URL that the offer's alias starts with and whose host is the packet's
 * source, and a signature over kith_task_broker_proof_data(@id, alias) by its key.
 * FALSE with a one-line reason (for the blacklist) in *@reason (caller frees). */
gboolean kith_upload_verify_offer (const gchar *anchor_pem, guint32 id, const KithTaskOffer *offer, gint64 now,
                                   gchar **reason);
/* Checks receipt document @document ({"receipt": TEXT, "signature": DETACHED}) against
 * @anchor_pem at @now: signed by a backend certificate (not a node certificate) and
 * matching @expect. FALSE with a one-line reason; on success *@text is the receipt text
 * (caller frees; may be NULL). */
gboolean kith_upload_verify_receipt (const gchar *anchor_pem, GBytes *document, const KithUploadExpect *expect,
                                     gint64 now, gchar **text, gchar **reason);
/* The PEM of a certificate given as base64 DER (as in task responses), or NULL; caller frees. */
gchar *kith_upload_cert_pem_from_base64 (const gchar *b64);
/* The base64 DER of a PEM certificate (for task responses); caller frees. */
gchar *kith_upload_cert_base64_from_pem (const gchar *pem);

/* The maximum upload receipt time T in ms (claims 3–5):
 *   T = slack + 2 × size / speed + interval
 * size in bytes; speed the measured transmission speed in bytes/s (requester → responder,
 * counted twice for the responder's own hop to the backend); interval the responder's
 * advertised upload interval in ms; slack a fixed allowance for round trips and signing. */
guint64 kith_upload_receipt_time_ms (guint64 size, guint64 speed, guint64 interval_ms, guint64 slack_ms);

G_END_DECLS
