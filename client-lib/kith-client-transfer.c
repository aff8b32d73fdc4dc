/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-transfer.c — KithClientTransfer, the caller's view of one org.kith.Transfer1 */
#include "kith-client-transfer.h"
#include "kith-client-private.h"

struct _KithClientTransfer {
  GObject parent_instance;
  gchar *url;
  gchar *destination;
  gchar *object_path;
  KithClientTransferState state;
  gchar *source;
  guint64 bytes_done;
  guint64 bytes_total;
  gchar *error;
  gint64 started_us;
  gint64 finished_us; /* 0 while running */
};

enum {
  PROP_0,
  PROP_URL,
  PROP_DESTINATION,
  PROP_OBJECT_PATH,
  PROP_STATE,
  PROP_SOURCE,
  PROP_BYTES_DONE,
  PROP_BYTES_TOTAL,
  PROP_ERROR,
  PROP_LAST
};
static GParamSpec *props[PROP_LAST];

G_DEFINE_TYPE (KithClientTransfer, kith_client_transfer, G_TYPE_OBJECT)

static const GEnumValue kith_client_transfer_state_values[] = {
  { KITH_CLIENT_TRANSFER_STATE_SEARCHING, "KITH_CLIENT_TRANSFER_STATE_SEARCHING", "searching" },
  { KITH_CLIENT_TRANSFER_STATE_WAITING_FOR_PEER, "KITH_CLIENT_TRANSFER_STATE_WAITING_FOR_PEER",
    "waiting-for-peer" },
  { KITH_CLIENT_TRANSFER_STATE_FROM_PEER, "KITH_CLIENT_TRANSFER_STATE_FROM_PEER", "from-peer" },
  { KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN, "KITH_CLIENT_TRANSFER_STATE_FROM_ORIGIN", "from-origin" },
  { KITH_CLIENT_TRANSFER_STATE_DONE, "KITH_CLIENT_TRANSFER_STATE_DONE", "done" },
  { KITH_CLIENT_TRANSFER_STATE_FAILED, "KITH_CLIENT_TRANSFER_STATE_FAILED", "failed" },
  { 0, NULL, NULL },
};

GType
kith_client_transfer_state_get_type (void)
{
  static gsize type = 0;
  if (g_once_init_enter (&type)) {
    GType id = g_enum_register_static (g_intern_static_string ("KithClientTransferState"),
                                       kith_client_transfer_state_values);
    g_once_init_leave (&type, id);
  }
  return (GType) type;
}

const gchar *
kith_client_transfer_state_to_string (KithClientTransferState state)
{
  for (gsize i = 0; kith_client_transfer_state_values[i].value_nick != NULL; i++) {
    if (kith_client_transfer_state_values[i].value == (gint) state)
      return kith_client_transfer_state_values[i].value_nick;
  }
  return "unknown";
}

gboolean
kith_client_transfer_state_from_string (const gchar *str, KithClientTransferState *state)
{
  for (gsize i = 0; kith_client_transfer_state_values[i].value_nick != NULL; i++) {
    if (g_strcmp0 (kith_client_transfer_state_values[i].value_nick, str) == 0) {
      *state = kith_client_transfer_state_values[i].value;
      return TRUE;
    }
  }
  return FALSE;
}

KithClientTransfer *
kith_client_transfer_new (const gchar *url, const gchar *destination)
{
  KithClientTransfer *self = g_object_new (KITH_TYPE_CLIENT_TRANSFER, NULL);
  self->url = g_strdup (url);
  self->destination = g_strdup (destination);
  self->started_us = g_get_monotonic_time ();
  return self;
}

void
kith_client_transfer_set_object_path (KithClientTransfer *self, const gchar *object_path)
{
  g_return_if_fail (KITH_IS_CLIENT_TRANSFER (self));
  if (g_strcmp0 (self->object_path, object_path) == 0)
    return;
  g_free (self->object_path);
  self->object_path = g_strdup (object_path);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_OBJECT_PATH]);
}

/* Replaces *@field with @value (empty = NULL); TRUE when it changed. */
static gboolean
kith_client_transfer_set_string (gchar **field, const gchar *value)
{
  if (value != NULL && value[0] == '\0')
    value = NULL;
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

gboolean
kith_client_transfer_update (KithClientTransfer *self, const gchar *state, const gchar *source,
                             guint64 bytes_done, guint64 bytes_total, const gchar *error)
{
  KithClientTransferState new_state = self->state;
  gboolean changed = FALSE;

  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), FALSE);
  /* an unknown state from a newer agent keeps the last one we understood */
  if (state != NULL && !kith_client_transfer_state_from_string (state, &new_state))
    g_debug ("transfer %s: unknown state '%s'", self->object_path, state);
  g_object_freeze_notify (G_OBJECT (self));
  if (kith_client_transfer_set_string (&self->source, source)) {
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SOURCE]);
    changed = TRUE;
  }
  if (self->bytes_done != bytes_done) {
    self->bytes_done = bytes_done;
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BYTES_DONE]);
    changed = TRUE;
  }
  if (self->bytes_total != bytes_total) {
    self->bytes_total = bytes_total;
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BYTES_TOTAL]);
    changed = TRUE;
  }
  if (kith_client_transfer_set_string (&self->error, error)) {
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ERROR]);
    changed = TRUE;
  }
  if (self->state != new_state) {
    self->state = new_state;
    if (kith_client_transfer_is_finished (self) && self->finished_us == 0)
      self->finished_us = g_get_monotonic_time ();
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
    changed = TRUE;
  }
  g_object_thaw_notify (G_OBJECT (self));
  return changed;
}

const gchar *
kith_client_transfer_get_url (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), NULL);
  return self->url;
}

const gchar *
kith_client_transfer_get_destination (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), NULL);
  return self->destination;
}

const gchar *
kith_client_transfer_get_object_path (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), NULL);
  return self->object_path;
}

KithClientTransferState
kith_client_transfer_get_state (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), KITH_CLIENT_TRANSFER_STATE_FAILED);
  return self->state;
}

const gchar *
kith_client_transfer_get_source (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), NULL);
  return self->source;
}

gboolean
kith_client_transfer_is_from_peer (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), FALSE);
  return self->source != NULL && g_strcmp0 (self->source, "origin") != 0 &&
         g_strcmp0 (self->source, "cache") != 0 && g_strcmp0 (self->source, "relay") != 0;
}

guint64
kith_client_transfer_get_bytes_done (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), 0);
  return self->bytes_done;
}

guint64
kith_client_transfer_get_bytes_total (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), 0);
  return self->bytes_total;
}

gint64
kith_client_transfer_get_elapsed (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), 0);
  return (self->finished_us != 0 ? self->finished_us : g_get_monotonic_time ()) - self->started_us;
}

const gchar *
kith_client_transfer_get_error (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), NULL);
  return self->error;
}

gboolean
kith_client_transfer_is_finished (KithClientTransfer *self)
{
  g_return_val_if_fail (KITH_IS_CLIENT_TRANSFER (self), TRUE);
  return self->state == KITH_CLIENT_TRANSFER_STATE_DONE ||
         self->state == KITH_CLIENT_TRANSFER_STATE_FAILED;
}

static void
kith_client_transfer_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  KithClientTransfer *self = KITH_CLIENT_TRANSFER (object);
  switch (prop_id) {
  case PROP_URL: g_value_set_string (value, self->url); break;
  case PROP_DESTINATION: g_value_set_string (value, self->destination); break;
  case PROP_OBJECT_PATH: g_value_set_string (value, self->object_path); break;
  case PROP_STATE: g_value_set_enum (value, self->state); break;
  case PROP_SOURCE: g_value_set_string (value, self->source); break;
  case PROP_BYTES_DONE: g_value_set_uint64 (value, self->bytes_done); break;
  case PROP_BYTES_TOTAL: g_value_set_uint64 (value, self->bytes_total); break;
  case PROP_ERROR: g_value_set_string (value, self->error); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
kith_client_transfer_finalize (GObject *object)
{
  KithClientTransfer *self = KITH_CLIENT_TRANSFER (object);
  g_free (self->url);
  g_free (self->destination);
  g_free (self->object_path);
  g_free (self->source);
  g_free (self->error);
  G_OBJECT_CLASS (kith_client_transfer_parent_class)->finalize (object);
}

static void
kith_client_transfer_init (KithClientTransfer *self)
{
}

static GParamSpec *
kith_client_transfer_string_pspec (const gchar *name)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static GParamSpec *
kith_client_transfer_uint64_pspec (const gchar *name)
{
  return g_param_spec_uint64 (name, NULL, NULL, 0, G_MAXUINT64, 0,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
}

static void
kith_client_transfer_class_init (KithClientTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = kith_client_transfer_get_property;
  object_class->finalize = kith_client_transfer_finalize;
  props[PROP_URL] = kith_client_transfer_string_pspec ("url");
  props[PROP_DESTINATION] = kith_client_transfer_string_pspec ("destination");
  props[PROP_OBJECT_PATH] = kith_client_transfer_string_pspec ("object-path");
  props[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KITH_TYPE_CLIENT_TRANSFER_STATE,
                       KITH_CLIENT_TRANSFER_STATE_SEARCHING,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_SOURCE] = kith_client_transfer_string_pspec ("source");
  props[PROP_BYTES_DONE] = kith_client_transfer_uint64_pspec ("bytes-done");
  props[PROP_BYTES_TOTAL] = kith_client_transfer_uint64_pspec ("bytes-total");
  props[PROP_ERROR] = kith_client_transfer_string_pspec ("error");
  g_object_class_install_properties (object_class, PROP_LAST, props);
}
