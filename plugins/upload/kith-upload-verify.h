/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-verify.h — the requester's checks (docs/architecture.md, "Trust", FIG. 9) after an offer passed
 * kith_peer_proof_verify() (role "upload"): does a receipt prove the backend stored our
 * report, and how long to wait for it. Pure functions of their inputs so each rule is
 * tested on its own. */
#pragma once

#include "kith-agent.h"
#include "kith-crypto.h"
#include "kith-peer-proof.h"

G_BEGIN_DECLS

/* What a receipt must say about our report. Borrowed strings. */
typedef struct {
  const gchar *upload_id;
  const gchar *sha256;
  guint64 size;
  const gchar *requester;
} KithUploadExpect;

/* Checks receipt document @document ({"receipt": TEXT, "signature": DETACHED}) against
 * @anchor_pem at @now: signed by a backend certificate (not a node certificate) and
 * matching @expect. FALSE with a one-line reason; on success *@text is the receipt text
 * (caller frees; may be NULL). */
gboolean kith_upload_verify_receipt (const gchar *anchor_pem, GBytes *document, const KithUploadExpect *expect,
                                     gint64 now, gchar **text, gchar **reason);
/* The maximum upload receipt time T in ms (claims 3–5):
 *   T = slack + 2 × size / speed + interval
 * size in bytes; speed the measured transmission speed in bytes/s (requester → responder,
 * counted twice for the responder's own hop to the backend); interval the responder's
 * advertised upload interval in ms; slack a fixed allowance for round trips and signing. */
guint64 kith_upload_receipt_time_ms (guint64 size, guint64 speed, guint64 interval_ms, guint64 slack_ms);

G_END_DECLS
