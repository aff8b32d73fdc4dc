/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-apt-kith.c — apt's files through the kith agent, with libkith */
#include "kith-apt-kith.h"

typedef enum {
  KITH_APT_KITH_UNKNOWN,
  KITH_APT_KITH_CONNECTING,
  KITH_APT_KITH_READY,
  KITH_APT_KITH_MISSING,
} KithAptKithState;

struct _KithAptKith {
  KithAptKithLogFunc log;
  gpointer log_data;
  GCancellable *cancellable; /* apt went away */
  gchar *address;
  guint parallel;
  guint timeout_s;
  KithClient *client;
  KithAptKithState state;
  GQueue waiting; /* KithAptKithFetch* waiting for the agent to answer */
  GQueue queued;  /* KithAptKithFetch* waiting for a free slot */
  GQueue running; /* KithAptKithFetch* through the agent right now */
};

/* One file on its way through the agent. */
typedef struct {
  KithAptKith *owner;
  gchar *url;
  gchar *filename;
  gchar *sha256;
  guint64 size;
  const KithAptKithCallbacks *callbacks;
  gpointer user_data;
  GCancellable *cancellable;
  gboolean started; /* bytes have flowed */
  gboolean stalled;
  guint64 last_done;
  KithClientTransferState last_state;
  GSource *stall_timer;
} KithAptKithFetch;

static void kith_apt_kith_start (KithAptKithFetch *fetch);

/* ---- a fetch ---- */

static void
kith_apt_kith_fetch_stop_timer (KithAptKithFetch *fetch)
{
  if (fetch->stall_timer != NULL) {
    g_source_destroy (fetch->stall_timer);
    g_clear_pointer (&fetch->stall_timer, g_source_unref);
  }
}

static void
kith_apt_kith_fetch_free (KithAptKithFetch *fetch)
{
  kith_apt_kith_fetch_stop_timer (fetch);
  g_clear_object (&fetch->cancellable);
  g_free (fetch->url);
  g_free (fetch->filename);
  g_free (fetch->sha256);
  g_free (fetch);
}

static gboolean
kith_apt_kith_fetch_stalled (gpointer user_data)
{
  KithAptKithFetch *fetch = user_data;

  g_clear_pointer (&fetch->stall_timer, g_source_unref);
  fetch->stalled = TRUE;
  g_cancellable_cancel (fetch->cancellable);
  return G_SOURCE_REMOVE;
}

static void
kith_apt_kith_fetch_arm_stall_timer (KithAptKithFetch *fetch)
{
  kith_apt_kith_fetch_stop_timer (fetch);
  fetch->stall_timer = g_timeout_source_new_seconds (fetch->owner->timeout_s);
  g_source_set_callback (fetch->stall_timer, kith_apt_kith_fetch_stalled, fetch, NULL);
  g_source_attach (fetch->stall_timer, NULL);
}

/* What apt shows next to the file while no bytes flow yet, or NULL. Caller frees. */
static gchar *
kith_apt_kith_status_text (KithClientTransfer *transfer)
{
  const gchar *source = kith_client_transfer_get_source (transfer);

  switch (kith_client_transfer_get_state (transfer)) {
  case KITH_CLIENT_TRANSFER_STATE_SEARCHING:
    return g_strdup ("Searching the LAN");
  case KITH_CLIENT_TRANSFER_STATE_WAITING_FOR_PEER:
    return g_strdup_printf ("Waiting for peer %.8s", source != NULL ? source : "");
  default:
    return NULL;
  }
}

static void
kith_apt_kith_fetch_progress (KithClientTransfer *transfer, gpointer user_data)
{
  KithAptKithFetch *fetch = user_data;
  KithClientTransferState state = kith_client_transfer_get_state (transfer);
  guint64 done = kith_client_transfer_get_bytes_done (transfer);

  if (state != fetch->last_state) {
    g_autofree gchar *text = kith_apt_kith_status_text (transfer);
    if (text != NULL)
      fetch->callbacks->status (text, fetch->user_data);
  }
  fetch->last_state = state;

  if (state == KITH_CLIENT_TRANSFER_STATE_FROM_PEER || state == KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN) {
    fetch->started = TRUE;
    fetch->callbacks->started (fetch->size > 0 ? fetch->size : kith_client_transfer_get_bytes_total (transfer),
                               fetch->user_data);
  }
  /* the stall timer measures silence: any new state or byte re-arms it */
  if (!fetch->started || done != fetch->last_done || state != KITH_CLIENT_TRANSFER_STATE_FROM_PEER)
    kith_apt_kith_fetch_arm_stall_timer (fetch);
  fetch->last_done = done;
}

/* Errors that say the agent will fail every other file as well. */
static gboolean
kith_apt_kith_error_is_missing (const GError *error)
{
  return g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING) ||
         g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PLUGIN_MISSING) ||
         g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PERMISSION_DENIED);
}

static void
kith_apt_kith_fetch_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithAptKithFetch *fetch = user_data;
  KithAptKith *self = fetch->owner;
  g_autoptr (GError) error = NULL;
  g_autoptr (KithClientTransfer) transfer = kith_client_fetch_finish (KITH_CLIENT (source), res, &error);
  KithAptKithFetch *next;

  g_queue_remove (&self->running, fetch);
  if (g_cancellable_is_cancelled (self->cancellable)) {
    kith_apt_kith_fetch_free (fetch); /* apt went away */
    return;
  }
  if ((next = g_queue_pop_head (&self->queued)) != NULL)
    kith_apt_kith_start (next);
  kith_apt_kith_fetch_stop_timer (fetch);
  if (transfer == NULL && kith_apt_kith_error_is_missing (error))
    self->state = KITH_APT_KITH_MISSING; /* the rest goes straight to the origin */
  fetch->callbacks->done (transfer, error, fetch->stalled, fetch->user_data);
  kith_apt_kith_fetch_free (fetch);
}

/* Into a free slot, else into the queue; declined when the agent is missing. */
static void
kith_apt_kith_start (KithAptKithFetch *fetch)
{
  KithAptKith *self = fetch->owner;

  if (self->state == KITH_APT_KITH_MISSING) {
    fetch->callbacks->declined (fetch->user_data);
    kith_apt_kith_fetch_free (fetch);
    return;
  }
  if (self->running.length >= self->parallel) {
    g_queue_push_tail (&self->queued, fetch);
    return;
  }
  g_queue_push_tail (&self->running, fetch);
  kith_apt_kith_fetch_arm_stall_timer (fetch);
  kith_client_fetch_sized_async (self->client, fetch->url, fetch->filename, fetch->sha256, fetch->size,
                                 KITH_CLIENT_FETCH_FLAG_NONE, kith_apt_kith_fetch_progress, fetch, NULL,
                                 fetch->cancellable, kith_apt_kith_fetch_cb, fetch);
}

/* ---- the agent ---- */

static void
kith_apt_kith_connect_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithAptKith *self = user_data;
  g_autoptr (GError) error = NULL;
  KithAptKithFetch *fetch;

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  if (kith_client_connect_finish (self->client, res, &error)) {
    self->state = KITH_APT_KITH_READY;
  } else {
    g_autofree gchar *text = g_strdup_printf ("kith: %s; downloading from the origin directly", error->message);
    self->state = KITH_APT_KITH_MISSING;
    self->log (text, self->log_data);
  }
  while ((fetch = g_queue_pop_head (&self->waiting)) != NULL)
    kith_apt_kith_start (fetch);
}

static void
kith_apt_kith_connect (KithAptKith *self)
{
  self->client = kith_client_new ();
  if (self->address != NULL && *self->address != '\0')
    kith_client_set_address (self->client, self->address);
  self->state = KITH_APT_KITH_CONNECTING;
  kith_client_connect_async (self->client, self->cancellable, kith_apt_kith_connect_cb, self);
}

void
kith_apt_kith_fetch (KithAptKith *self, const gchar *url, const gchar *filename,
                     const gchar *sha256, guint64 size, const KithAptKithCallbacks *callbacks,
                     gpointer user_data, GCancellable *cancellable)
{
  KithAptKithFetch *fetch = g_new0 (KithAptKithFetch, 1);

  fetch->owner = self;
  fetch->url = g_strdup (url);
  fetch->filename = g_strdup (filename);
  fetch->sha256 = g_strdup (sha256);
  fetch->size = size;
  fetch->callbacks = callbacks;
  fetch->user_data = user_data;
  fetch->cancellable = g_object_ref (cancellable);
  fetch->last_state = KITH_CLIENT_TRANSFER_STATE_FAILED; /* none yet */
  switch (self->state) {
  case KITH_APT_KITH_UNKNOWN:
    g_queue_push_tail (&self->waiting, fetch);
    kith_apt_kith_connect (self);
    return;
  case KITH_APT_KITH_CONNECTING:
    g_queue_push_tail (&self->waiting, fetch);
    return;
  case KITH_APT_KITH_READY:
  case KITH_APT_KITH_MISSING:
  default:
    kith_apt_kith_start (fetch);
    return;
  }
}

void
kith_apt_kith_configure (KithAptKith *self, const gchar *address, guint parallel, guint timeout_s)
{
  g_free (self->address);
  self->address = g_strdup (address);
  self->parallel = parallel;
  self->timeout_s = timeout_s;
}

KithAptKith *
kith_apt_kith_new (KithAptKithLogFunc log, gpointer log_data, GCancellable *cancellable)
{
  KithAptKith *self = g_new0 (KithAptKith, 1);

  self->log = log;
  self->log_data = log_data;
  self->cancellable = g_object_ref (cancellable);
  g_queue_init (&self->waiting);
  g_queue_init (&self->queued);
  g_queue_init (&self->running);
  return self;
}

void
kith_apt_kith_free (KithAptKith *self)
{
  g_queue_clear_full (&self->waiting, (GDestroyNotify) kith_apt_kith_fetch_free);
  g_queue_clear_full (&self->queued, (GDestroyNotify) kith_apt_kith_fetch_free);
  g_queue_clear_full (&self->running, (GDestroyNotify) kith_apt_kith_fetch_free);
  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  g_free (self->address);
  g_free (self);
}
