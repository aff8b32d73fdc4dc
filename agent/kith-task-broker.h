/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-task-broker.h — asking the LAN for a peer to perform a task (FIG. 9; docs/architecture.md), and
 * offering to perform one: implemented by the peering service, used by the upload
 * (and relay) plugins without linking peering */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A "request" for a task heard from the LAN. All strings are borrowed. */
typedef struct {
  const gchar *task;    /* the request's `want`, e.g. "upload" */
  const gchar *href;    /* what the task is about, e.g. the backend's upload URL */
  const gchar *node;    /* the requester's node id */
  guint32 id;           /* the requester's request id */
  GSocketAddress *from; /* where the request came from */
} KithTaskAsk;

/* An offer to perform a task: a "response". Strings owned by whoever filled it. */
typedef struct {
  const gchar *node;    /* the responder's node id (set by the broker on received offers) */
  gchar *alias;         /* where to send the task, on the responder's HTTP server */
  gchar *cert;          /* the responder's node certificate, base64 DER */
  gchar *sig;           /* its signature over (id, alias), base64 */
  guint32 interval;     /* how often (s) it uploads to the backend */
  GSocketAddress *from; /* the offer's source address (received offers) */
} KithTaskOffer;

/* Requesting side: whether @offer, answering our request @id, comes from a peer the
 * vendor enrolled for @role — the one check every plugin that hands a task to a peer
 * applies before a byte is sent (upload, relay): kith_peer_proof_verify() against the
 * trust anchor @anchor_pem at @now (chain, validity, role, node id, alias on the offer's
 * source, proof of possession over (@id, alias)). FALSE with a one-line reason in
 * *@reason (caller frees). */
gboolean kith_task_offer_verify (const KithTaskOffer *offer, guint32 id, const gchar *anchor_pem,
                                 const gchar *role, gint64 now, gchar **reason);

/* Serving side: fill @offer (g_strdup'd strings, freed by the broker) and return TRUE to
 * answer @ask after the usual random delay (cancelled by "I found"), FALSE to stay silent. */
typedef gboolean (*KithTaskResponder) (const KithTaskAsk *ask, KithTaskOffer *offer,
                                       gpointer user_data);
/* Requesting side: called for each offer to request @id; @offer is borrowed. */
typedef void (*KithTaskOfferFunc) (guint32 id, const KithTaskOffer *offer, gpointer user_data);

#define KITH_TYPE_TASK_BROKER (kith_task_broker_get_type ())
G_DECLARE_INTERFACE (KithTaskBroker, kith_task_broker, KITH, TASK_BROKER, GObject)

struct _KithTaskBrokerInterface {
  GTypeInterface parent_iface;
  guint32 (*request) (KithTaskBroker *self, const gchar *task, const gchar *href,
                      KithTaskOfferFunc func, gpointer user_data);
  void (*found) (KithTaskBroker *self, guint32 id);
  void (*end) (KithTaskBroker *self, guint32 id);
  void (*add_responder) (KithTaskBroker *self, const gchar *task, KithTaskResponder func,
                         gpointer user_data);
  void (*remove_responder) (KithTaskBroker *self, const gchar *task);
};

/* Broadcasts "I need" (method post, want=@task) for @href; offers arrive at @func until
 * kith_task_broker_end(). Returns the request id. */
guint32 kith_task_broker_request (KithTaskBroker *self, const gchar *task, const gchar *href,
                                  KithTaskOfferFunc func, gpointer user_data);
/* Broadcasts "I found" for @id: every other responder cancels its pending offer. */
void kith_task_broker_found (KithTaskBroker *self, guint32 id);
/* Stops delivering offers for @id and broadcasts "end-request". */
void kith_task_broker_end (KithTaskBroker *self, guint32 id);
/* Answers requests for @task through @func; one responder per task. */
void kith_task_broker_add_responder (KithTaskBroker *self, const gchar *task,
                                     KithTaskResponder func, gpointer user_data);
void kith_task_broker_remove_responder (KithTaskBroker *self, const gchar *task);
/* The bytes a responder signs to prove it holds its certificate's key: "ID\nALIAS"
 * (kith_peer_proof_data()); caller frees. */
GBytes *kith_task_broker_proof_data (guint32 id, const gchar *alias);

G_END_DECLS
