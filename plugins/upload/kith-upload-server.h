/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-upload-server.h — the serving side of the upload task (docs/architecture.md, "Trust"): a connected node
 * enrolls with the backend (key in STATE_DIR/upload/node-key.pem, 0600), renews its node
 * certificate at two thirds of its life, answers "I need" for upload with its certificate
 * and proof of possession while the backend is reachable, accepts reports POSTed to its
 * alias from the LAN, spools each atomically and forwards it to the backend; the backend's
 * receipt is the POST's response (the advertised interval is then 0: forwarding starts at
 * once; a report whose forwarding failed stays in the spool and is retried). */
#pragma once

#include "kith-agent.h"

G_BEGIN_DECLS

typedef struct _KithUploadServer KithUploadServer;

/* Serves upload tasks for @agent through @session (both borrowed, outlive it): reports of at
 * most @max_size bytes, advertising @interval seconds; an enrollment whose answer has not
 * ended after @enroll_timeout_ms is given up and tried again later. */
KithUploadServer *kith_upload_server_new (KithAgent *agent, SoupSession *session, guint64 max_size, guint32 interval,
                                          guint64 enroll_timeout_ms);
/* Enrolls (asynchronously) and starts answering; FALSE when the key cannot be made. */
gboolean kith_upload_server_start (KithUploadServer *self, GError **error);
void kith_upload_server_free (KithUploadServer *self);
/* This node's certificate (base64 DER) and its proof of possession over (@id, @alias)
 * when it is enrolled and the certificate permits @role (KithPeerIdentity); caller frees. */
gboolean kith_upload_server_prove (KithUploadServer *self, const gchar *role, guint32 id, const gchar *alias,
                                   gchar **cert, gchar **sig);
/* Whether it holds a certificate and the backend answered last time. */
gboolean kith_upload_server_is_serving (KithUploadServer *self);
/* Reports forwarded to the backend with a receipt since start. */
guint64 kith_upload_server_get_forwarded (KithUploadServer *self);
/* Forwards given up since start: the backend's answer had not ended by the requester's
 * receipt deadline T and a margin (their spooled reports deleted, the requesters keep theirs). */
guint64 kith_upload_server_get_forwards_cut (KithUploadServer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KithUploadServer, kith_upload_server_free)

G_END_DECLS
