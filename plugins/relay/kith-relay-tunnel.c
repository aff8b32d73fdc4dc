/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-relay-tunnel.c — two streams joined, rate-limited, idle-bounded */
#include "kith-relay-tunnel.h"

/* bytes read at once per direction: also the most a bucket goes into debt per read */
#define KITH_RELAY_TUNNEL_CHUNK (16 * 1024)
#define KITH_RELAY_TUNNEL_TOTAL_KEY "*"

typedef struct {
  KithRelayTunnel *tunnel; /* borrowed: the pump lives inside it */
  GInputStream *in;
  GOutputStream *out;
  const gchar *labels;
  guint8 buffer[KITH_RELAY_TUNNEL_CHUNK];
  guint64 bytes;
  guint delay_id; /* the next read, once the buckets are out of debt */
} KithRelayPump;

struct _KithRelayTunnel {
  gint refs; /* the owner's, and one per operation in flight */
  GIOStream *requester;
  GIOStream *target;
  gchar *requester_key;
  KithRelayTunnelShared shared;
  KithRelayTunnelEnded ended;
  gpointer user_data;
  GCancellable *cancellable;
  KithRelayPump up, down;
  gint64 last_us; /* the last byte either way */
  guint idle_id;
  gboolean over;
};

static void kith_relay_pump_read (KithRelayPump *pump);

static KithRelayTunnel *
kith_relay_tunnel_ref (KithRelayTunnel *self)
{
  self->refs++;
  return self;
}

static void
kith_relay_tunnel_unref (KithRelayTunnel *self)
{
  if (--self->refs > 0)
    return;
  g_object_unref (self->requester);
  g_object_unref (self->target);
  g_object_unref (self->cancellable);
  g_free (self->requester_key);
  g_free (self);
}

/* Both streams closed, nothing more read or written; @ended told unless @quiet. */
static void
kith_relay_tunnel_end (KithRelayTunnel *self, gboolean quiet)
{
  if (self->over)
    return;
  self->over = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->idle_id, g_source_remove);
  g_clear_handle_id (&self->up.delay_id, g_source_remove);
  g_clear_handle_id (&self->down.delay_id, g_source_remove);
  /* plain sockets: closing never blocks */
  g_io_stream_close (self->requester, NULL, NULL);
  g_io_stream_close (self->target, NULL, NULL);
  if (!quiet && self->ended != NULL)
    self->ended (self, self->user_data);
}

static gboolean
kith_relay_pump_resume_cb (gpointer user_data)
{
  KithRelayPump *pump = user_data;

  pump->delay_id = 0;
  kith_relay_pump_read (pump);
  return G_SOURCE_REMOVE;
}

static void
kith_relay_pump_wrote_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithRelayPump *pump = user_data;
  KithRelayTunnel *self = pump->tunnel;
  g_autoptr (GError) error = NULL;
  gsize n = 0;
  gint64 wait_us, total_us;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, &n, &error) || self->over) {
    kith_relay_tunnel_end (self, FALSE);
    kith_relay_tunnel_unref (self);
    return;
  }
  self->last_us = g_get_monotonic_time ();
  /* the bytes went; the next read waits until both buckets are out of debt */
  wait_us = kith_rate_limit_charge (self->shared.per_requester, self->requester_key, n, self->last_us);
  total_us = kith_rate_limit_charge (self->shared.total, KITH_RELAY_TUNNEL_TOTAL_KEY, n, self->last_us);
  wait_us = MAX (wait_us, total_us);
  if (wait_us > 0)
    pump->delay_id = g_timeout_add ((guint) MIN ((wait_us + 999) / 1000, G_MAXUINT), kith_relay_pump_resume_cb, pump);
  else
    kith_relay_pump_read (pump);
  kith_relay_tunnel_unref (self);
}

static void
kith_relay_pump_read_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KithRelayPump *pump = user_data;
  KithRelayTunnel *self = pump->tunnel;
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);

  if (n <= 0 || self->over) {
    /* one side ended or failed: what it sent went out already, so the tunnel is done */
    kith_relay_tunnel_end (self, FALSE);
    kith_relay_tunnel_unref (self);
    return;
  }
  pump->bytes += (guint64) n;
  self->last_us = g_get_monotonic_time ();
  kith_metrics_add (self->shared.metrics, "kith_relay_bytes_total", pump->labels, (gdouble) n);
  g_output_stream_write_all_async (pump->out, pump->buffer, (gsize) n, G_PRIORITY_DEFAULT, self->cancellable,
                                   kith_relay_pump_wrote_cb, pump);
}

static void
kith_relay_pump_read (KithRelayPump *pump)
{
  KithRelayTunnel *self = pump->tunnel;

  if (self->over)
    return;
  g_input_stream_read_async (pump->in, pump->buffer, sizeof pump->buffer, G_PRIORITY_DEFAULT, self->cancellable,
                             kith_relay_pump_read_cb, pump);
  kith_relay_tunnel_ref (self);
}

static gboolean
kith_relay_tunnel_idle_cb (gpointer user_data)
{
  KithRelayTunnel *self = user_data;

  if (g_get_monotonic_time () - self->last_us < (gint64) self->shared.idle_ms * 1000)
    return G_SOURCE_CONTINUE;
  g_debug ("tunnel of %s idle for %" G_GUINT64_FORMAT " ms: closed", self->requester_key, self->shared.idle_ms);
  self->idle_id = 0;
  kith_relay_tunnel_end (self, FALSE);
  return G_SOURCE_REMOVE;
}

/* The HTTP server bounded the socket's every wait; the tunnel's own idle timeout replaces
 * that, so that one direction may stay quiet while the other streams. */
static void
kith_relay_tunnel_clear_socket_timeout (GIOStream *stream)
{
  GSocket *socket = NULL;

  if (G_IS_SOCKET_CONNECTION (stream))
    socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
  else
    socket = g_object_get_data (G_OBJECT (stream), "GSocket");
  if (socket != NULL && G_IS_SOCKET (socket))
    g_socket_set_timeout (socket, 0);
}

KithRelayTunnel *
kith_relay_tunnel_new (GIOStream *requester, GIOStream *target, const gchar *requester_key,
                       const KithRelayTunnelShared *shared, KithRelayTunnelEnded ended, gpointer user_data)
{
  KithRelayTunnel *self = g_new0 (KithRelayTunnel, 1);

  self->refs = 1;
  self->requester = g_object_ref (requester);
  self->target = g_object_ref (target);
  self->requester_key = g_strdup (requester_key);
  self->shared = *shared;
  self->ended = ended;
  self->user_data = user_data;
  self->cancellable = g_cancellable_new ();
  self->last_us = g_get_monotonic_time ();
  kith_relay_tunnel_clear_socket_timeout (requester);
  self->up = (KithRelayPump){ .tunnel = self, .in = g_io_stream_get_input_stream (requester),
                              .out = g_io_stream_get_output_stream (target), .labels = "direction=\"up\"" };
  self->down = (KithRelayPump){ .tunnel = self, .in = g_io_stream_get_input_stream (target),
                                .out = g_io_stream_get_output_stream (requester), .labels = "direction=\"down\"" };
  self->idle_id = g_timeout_add ((guint) CLAMP (shared->idle_ms / 4, 10, 1000), kith_relay_tunnel_idle_cb, self);
  kith_relay_pump_read (&self->up);
  kith_relay_pump_read (&self->down);
  return self;
}

void
kith_relay_tunnel_free (KithRelayTunnel *self)
{
  if (self == NULL)
    return;
  kith_relay_tunnel_end (self, TRUE);
  kith_relay_tunnel_unref (self);
}

const gchar *
kith_relay_tunnel_get_requester (KithRelayTunnel *self)
{
  return self->requester_key;
}

guint64
kith_relay_tunnel_get_bytes (KithRelayTunnel *self, gboolean up)
{
  return up ? self->up.bytes : self->down.bytes;
}
