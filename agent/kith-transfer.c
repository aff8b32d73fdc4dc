/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-transfer.c — one fetch of one URL, observed by whoever asked for it */
#include "kith-transfer.h"

struct _KithTransfer {
  GObject parent_instance;
  gchar *url;
  KithTransferState state;
  gchar *source;
  guint64 bytes_done;
  guint64 bytes_total;
  gchar *path;
  gchar *sha256;
  GError *error;
  GCancellable *cancellable;
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_SOURCE,
  PROP_BYTES_DONE,
  PROP_BYTES_TOTAL,
  N_PROPS,
};
static GParamSpec *props[N_PROPS];

enum {
  SIGNAL_FINISHED,
  N_SIGNALS,
};
static guint signals[N_SIGNALS];

G_DEFINE_TYPE (KithTransfer, kith_transfer, G_TYPE_OBJECT)

static void
kith_transfer_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  KithTransfer *self = KITH_TRANSFER (object);
  switch (prop_id) {
  case PROP_STATE:
    g_value_set_uint (value, self->state);
    break;
  case PROP_SOURCE:
    g_value_set_string (value, self->source);
    break;
  case PROP_BYTES_DONE:
    g_value_set_uint64 (value, self->bytes_done);
    break;
  case PROP_BYTES_TOTAL:
    g_value_set_uint64 (value, self->bytes_total);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
kith_transfer_finalize (GObject *object)
{
  KithTransfer *self = KITH_TRANSFER (object);
  g_free (self->url);
  g_free (self->source);
  g_free (self->path);
  g_free (self->sha256);
  g_clear_error (&self->error);
  g_object_unref (self->cancellable);
  G_OBJECT_CLASS (kith_transfer_parent_class)->finalize (object);
}

static void
kith_transfer_class_init (KithTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = kith_transfer_get_property;
  object_class->finalize = kith_transfer_finalize;
  props[PROP_STATE] = g_param_spec_uint ("state", NULL, NULL, 0, KITH_TRANSFER_STATE_FAILED, 0,
                                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_SOURCE] = g_param_spec_string ("source", NULL, NULL, NULL,
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_BYTES_DONE] = g_param_spec_uint64 ("bytes-done", NULL, NULL, 0, G_MAXUINT64, 0,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  props[PROP_BYTES_TOTAL] = g_param_spec_uint64 ("bytes-total", NULL, NULL, 0, G_MAXUINT64, 0,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, props);
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kith_transfer_init (KithTransfer *self)
{
  self->cancellable = g_cancellable_new ();
}

KithTransfer *
kith_transfer_new (const gchar *url)
{
  KithTransfer *self = g_object_new (KITH_TYPE_TRANSFER, NULL);
  self->url = g_strdup (url);
  return self;
}

const gchar *
kith_transfer_state_to_string (KithTransferState state)
{
  static const gchar *const names[] = {
    "searching", "waiting-for-peer", "from-peer", "from-origin", "done", "failed",
  };
  return state <= KITH_TRANSFER_STATE_FAILED ? names[state] : "unknown";
}

const gchar *
kith_transfer_get_url (KithTransfer *self)
{
  return self->url;
}

KithTransferState
kith_transfer_get_state (KithTransfer *self)
{
  return self->state;
}

const gchar *
kith_transfer_get_source (KithTransfer *self)
{
  return self->source;
}

guint64
kith_transfer_get_bytes_done (KithTransfer *self)
{
  return self->bytes_done;
}

guint64
kith_transfer_get_bytes_total (KithTransfer *self)
{
  return self->bytes_total;
}

const gchar *
kith_transfer_get_path (KithTransfer *self)
{
  return self->path;
}

const gchar *
kith_transfer_get_sha256 (KithTransfer *self)
{
  return self->sha256;
}

const GError *
kith_transfer_get_error (KithTransfer *self)
{
  return self->error;
}

gboolean
kith_transfer_is_finished (KithTransfer *self)
{
  return self->state == KITH_TRANSFER_STATE_DONE || self->state == KITH_TRANSFER_STATE_FAILED;
}

void
kith_transfer_cancel (KithTransfer *self)
{
  g_cancellable_cancel (self->cancellable);
}

GCancellable *
kith_transfer_get_cancellable (KithTransfer *self)
{
  return self->cancellable;
}

void
kith_transfer_set_state (KithTransfer *self, KithTransferState state)
{
  g_return_if_fail (!kith_transfer_is_finished (self));
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
  if (kith_transfer_is_finished (self))
    g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

void
kith_transfer_set_source (KithTransfer *self, const gchar *source)
{
  if (g_strcmp0 (self->source, source) == 0)
    return;
  g_free (self->source);
  self->source = g_strdup (source);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SOURCE]);
}

void
kith_transfer_set_progress (KithTransfer *self, guint64 done, guint64 total)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (self->bytes_done != done) {
    self->bytes_done = done;
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BYTES_DONE]);
  }
  if (self->bytes_total != total) {
    self->bytes_total = total;
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BYTES_TOTAL]);
  }
  g_object_thaw_notify (G_OBJECT (self));
}

void
kith_transfer_complete (KithTransfer *self, const gchar *path, const gchar *sha256)
{
  g_return_if_fail (!kith_transfer_is_finished (self));
  self->path = g_strdup (path);
  self->sha256 = g_strdup (sha256);
  kith_transfer_set_state (self, KITH_TRANSFER_STATE_DONE);
}

void
kith_transfer_fail (KithTransfer *self, const GError *error)
{
  g_return_if_fail (!kith_transfer_is_finished (self));
  self->error = g_error_copy (error);
  kith_transfer_set_state (self, KITH_TRANSFER_STATE_FAILED);
}
