/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-transport.c — the peering UDP transport (docs/protocol.md)
 *
 * Why two kinds of socket: the port is shared by every agent on the host, so the listener
 * must allow reuse. SO_REUSEADDR on every sharer makes the kernel hand each broadcast and
 * multicast datagram to each of them, but a UNICAST datagram to a shared addr:port goes to
 * ONE socket only (with SO_REUSEPORT, which GLib also sets on datagram sockets, a hash of the
 * flow picks it; without, the last bound wins) — never necessarily the agent that asked. So
 * every agent also sends from a socket of its own on an ephemeral port; replies go to the
 * source of the datagram they answer and thus land on exactly that socket.
 */

#include "kith-transport.h"

#include "kith-peering-error.h"

#include <errno.h>

#ifdef G_OS_UNIX
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

/* A bounded read: anything longer than the protocol allows is seen as "> MAX" and dropped. */
#define KITH_TRANSPORT_RECEIVE_BUFFER 2048
/* Datagrams read per wake-up before yielding to the other sources of the main loop. */
#define KITH_TRANSPORT_BATCH 32

typedef struct {
  GSocket *socket;
  GSource *source;
} KithTransportSocket;

struct _KithTransport {
  GObject parent_instance;
  guint16 port;
  gchar *listen_address;
  gchar *send_address;
  GStrv broadcast;
  gchar *multicast;
  GPtrArray *destinations; /* of GSocketAddress: the broadcast addresses, then the group */
  KithTransportSocket listener;
  KithTransportSocket group;
  KithTransportSocket sender;
  guint64 datagrams_in;
  guint64 datagrams_out;
  guint64 datagrams_oversize;
  guint64 receive_errors;
  guint64 send_errors;
};

enum { SIGNAL_DATAGRAM, SIGNAL_LAST };
#define KITH_TRANSPORT_RCVBUF (1024 * 1024)

static guint signals[SIGNAL_LAST] = {0};

G_DEFINE_TYPE (KithTransport, kith_transport, G_TYPE_OBJECT)

static GInetAddress *
kith_transport_parse_address (const gchar *text, const gchar *what, GError **error)
{
  GInetAddress *address = g_inet_address_new_from_string (text);
  if (address == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "peering %s '%s' is not an IP address", what, text);
  return address;
}

static GSocketAddress *
kith_transport_socket_address (GInetAddress *address, guint16 port, guint scope_id)
{
  return g_object_new (G_TYPE_INET_SOCKET_ADDRESS, "address", address, "port", (guint) port,
                       "scope-id", scope_id, NULL);
}

/* Splits "GROUP[%IFACE]" into a multicast address and an interface (name NULL = any). */
static GInetAddress *
kith_transport_parse_group (const gchar *text, gchar **ifname, guint *ifindex, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "%", 2);
  g_autoptr (GInetAddress) group = kith_transport_parse_address (parts[0], "multicast", error);

  if (group == NULL)
    return NULL;
  if (!g_inet_address_get_is_multicast (group)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "peering multicast '%s' is not a multicast group", parts[0]);
    return NULL;
  }
  *ifname = NULL;
  *ifindex = 0;
  if (parts[1] == NULL)
    return g_steal_pointer (&group);
#ifdef G_OS_UNIX
  *ifindex = if_nametoindex (parts[1]);
#endif
  if (*ifindex == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "peering multicast interface '%s' does not exist", parts[1]);
    return NULL;
  }
  *ifname = g_strdup (parts[1]);
  return g_steal_pointer (&group);
}

static GSocket *
kith_transport_open (GSocketAddress *address, gboolean reuse, const gchar *what, GError **error)
{
  GSocketFamily family = g_socket_address_get_family (address);
  g_autoptr (GSocket) socket = NULL;
  g_autofree gchar *text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (address));

  socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_blocking (socket, FALSE);
  /* room for a burst (a boot storm, or a flood) while the main loop is busy; the kernel
   * caps it at net.core.rmem_max, so failure to get it all is not an error */
#ifdef SO_RCVBUF
  g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, KITH_TRANSPORT_RCVBUF, NULL);
#endif
  /* allow_reuse sets SO_REUSEADDR (and SO_REUSEPORT for UDP): every sharer must set it */
  if (!g_socket_bind (socket, address, reuse, error)) {
    if (error != NULL && g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
      g_prefix_error (error, "%s %s is held by a socket that does not share it (SO_REUSEADDR): ",
                      what, text);
    else
      g_prefix_error (error, "cannot bind %s to %s: ", what, text);
    return NULL;
  }
  return g_steal_pointer (&socket);
}

/* Multicast leaves from the same interface it is joined on (lo in tests), one hop only,
 * and loops back so that the other agents of this host hear it. */
static gboolean
kith_transport_setup_multicast_send (GSocket *socket, guint ifindex, GError **error)
{
  g_socket_set_multicast_loopback (socket, TRUE);
  g_socket_set_multicast_ttl (socket, 1);
  if (ifindex == 0)
    return TRUE;
#ifdef G_OS_UNIX
  if (g_socket_get_family (socket) == G_SOCKET_FAMILY_IPV6)
    return g_socket_set_option (socket, IPPROTO_IPV6, IPV6_MULTICAST_IF, (gint) ifindex, error);
  {
    struct ip_mreqn mreqn = {.imr_ifindex = (gint) ifindex};
    if (setsockopt (g_socket_get_fd (socket), IPPROTO_IP, IP_MULTICAST_IF, &mreqn,
                    sizeof mreqn) < 0) {
      gint errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "cannot choose the multicast interface: %s", g_strerror (errsv));
      return FALSE;
    }
  }
#endif
  return TRUE;
}

static gboolean
kith_transport_receive_cb (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  g_autoptr (KithTransport) self = g_object_ref (KITH_TRANSPORT (user_data));
  GSource *current = g_main_current_source ();

  for (guint i = 0; i < KITH_TRANSPORT_BATCH; i++) {
    gchar buf[KITH_TRANSPORT_RECEIVE_BUFFER];
    g_autoptr (GSocketAddress) from = NULL;
    g_autoptr (GBytes) bytes = NULL;
    g_autoptr (GError) error_local = NULL;
    gssize n = g_socket_receive_from (socket, &from, buf, sizeof buf, NULL, &error_local);

    if (n < 0) {
      if (g_error_matches (error_local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      self->receive_errors++;
      g_debug ("peering receive failed: %s", error_local->message);
      break;
    }
    if (n > KITH_TRANSPORT_MAX_DATAGRAM) {
      self->datagrams_oversize++;
      g_debug ("dropped an oversize datagram (%" G_GSSIZE_FORMAT " bytes)", n);
      continue;
    }
    bytes = g_bytes_new (buf, (gsize) n);
    self->datagrams_in++;
    g_signal_emit (self, signals[SIGNAL_DATAGRAM], 0, bytes, from);
    /* a handler may have stopped us: this source and its socket are gone then */
    if (current != NULL && g_source_is_destroyed (current))
      return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void
kith_transport_watch (KithTransport *self, KithTransportSocket *ts, GSocket *socket)
{
  ts->socket = socket;
  ts->source = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (ts->source, G_SOURCE_FUNC (kith_transport_receive_cb), self, NULL);
  g_source_set_static_name (ts->source, "kith-transport");
  g_source_attach (ts->source, g_main_context_get_thread_default ());
}

static void
kith_transport_close (KithTransportSocket *ts)
{
  if (ts->source != NULL) {
    g_source_destroy (ts->source);
    g_clear_pointer (&ts->source, g_source_unref);
  }
  if (ts->socket != NULL) {
    g_socket_close (ts->socket, NULL);
    g_clear_object (&ts->socket);
  }
}

void
kith_transport_stop (KithTransport *self)
{
  g_return_if_fail (KITH_IS_TRANSPORT (self));
  kith_transport_close (&self->listener);
  kith_transport_close (&self->group);
  kith_transport_close (&self->sender);
  g_ptr_array_set_size (self->destinations, 0);
}

/* Parses the broadcast list into self->destinations; all must be of the sender's family. */
static gboolean
kith_transport_add_broadcast (KithTransport *self, GSocketFamily family, GError **error)
{
  for (guint i = 0; self->broadcast != NULL && self->broadcast[i] != NULL; i++) {
    g_autoptr (GInetAddress) address =
        kith_transport_parse_address (self->broadcast[i], "broadcast", error);
    if (address == NULL)
      return FALSE;
    if (g_inet_address_get_family (address) != family) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "peering broadcast '%s' is not of the send address's family",
                   self->broadcast[i]);
      return FALSE;
    }
    g_ptr_array_add (self->destinations, kith_transport_socket_address (address, self->port, 0));
  }
  return TRUE;
}

static gboolean
kith_transport_start_multicast (KithTransport *self, GSocketFamily family, GError **error)
{
  g_autofree gchar *ifname = NULL;
  guint ifindex = 0;
  g_autoptr (GInetAddress) group = NULL;
  g_autoptr (GSocketAddress) bind_address = NULL;
  GSocket *socket;

  group = kith_transport_parse_group (self->multicast, &ifname, &ifindex, error);
  if (group == NULL)
    return FALSE;
  if (g_inet_address_get_family (group) != family) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "peering multicast '%s' is not of the send address's family", self->multicast);
    return FALSE;
  }
  /* bound to the group itself, not the wildcard: it receives that group's datagrams only */
  bind_address = kith_transport_socket_address (group, self->port, ifindex);
  socket = kith_transport_open (bind_address, TRUE, "the peering multicast listener", error);
  if (socket == NULL)
    return FALSE;
  kith_transport_watch (self, &self->group, socket);
  if (!g_socket_join_multicast_group (socket, group, FALSE, ifname, error)) {
    g_prefix_error (error, "cannot join %s: ", self->multicast);
    return FALSE;
  }
  if (!kith_transport_setup_multicast_send (self->sender.socket, ifindex, error))
    return FALSE;
  g_ptr_array_add (self->destinations, g_object_ref (bind_address));
  return TRUE;
}

static gboolean
kith_transport_start_sockets (KithTransport *self, GError **error)
{
  g_autoptr (GInetAddress) send_inet = NULL;
  g_autoptr (GSocketAddress) send_address = NULL;
  GSocketFamily family;
  GSocket *socket;

  send_inet = kith_transport_parse_address (self->send_address, "send address", error);
  if (send_inet == NULL)
    return FALSE;
  family = g_inet_address_get_family (send_inet);
  if (!kith_transport_add_broadcast (self, family, error))
    return FALSE;

  send_address = kith_transport_socket_address (send_inet, 0, 0);
  socket = kith_transport_open (send_address, FALSE, "the peering send socket", error);
  if (socket == NULL)
    return FALSE;
  kith_transport_watch (self, &self->sender, socket);
  if (family == G_SOCKET_FAMILY_IPV4)
    g_socket_set_broadcast (socket, TRUE);

  if (self->listen_address != NULL) {
    g_autoptr (GSocketAddress) listen_address = NULL;
    g_autoptr (GInetAddress) listen_inet =
        kith_transport_parse_address (self->listen_address, "listen address", error);
    if (listen_inet == NULL)
      return FALSE;
    listen_address = kith_transport_socket_address (listen_inet, self->port, 0);
    socket = kith_transport_open (listen_address, TRUE, "the peering listener", error);
    if (socket == NULL)
      return FALSE;
    kith_transport_watch (self, &self->listener, socket);
#if defined(G_OS_UNIX) && defined(IP_MULTICAST_ALL)
    /* a wildcard listener would otherwise also get every group joined on the host, and the
     * group's datagrams would arrive twice; best effort, the option is Linux-only */
    if (g_socket_get_family (socket) == G_SOCKET_FAMILY_IPV4)
      g_socket_set_option (socket, IPPROTO_IP, IP_MULTICAST_ALL, 0, NULL);
#endif
  }
  if (self->multicast != NULL)
    return kith_transport_start_multicast (self, family, error);
  return TRUE;
}

gboolean
kith_transport_start (KithTransport *self, GError **error)
{
  g_return_val_if_fail (KITH_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->sender.socket != NULL) {
    g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                         "the peering transport is already started");
    return FALSE;
  }
  if (!kith_transport_start_sockets (self, error)) {
    kith_transport_stop (self);
    return FALSE;
  }
  g_debug ("peering transport on port %u: listen %s, send %s, multicast %s", self->port,
           self->listen_address != NULL ? self->listen_address : "(none)", self->send_address,
           self->multicast != NULL ? self->multicast : "(none)");
  return TRUE;
}

static gboolean
kith_transport_check_started (KithTransport *self, GError **error)
{
  if (self->sender.socket != NULL)
    return TRUE;
  g_set_error_literal (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED,
                       "the peering transport is not started");
  return FALSE;
}

static gboolean
kith_transport_send_one (KithTransport *self, GBytes *datagram, GSocketAddress *to, GError **error)
{
  gsize size = 0;
  const gchar *data = g_bytes_get_data (datagram, &size);

  if (g_socket_send_to (self->sender.socket, to, data, size, NULL, error) < 0) {
    g_autofree gchar *text = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (to));
    self->send_errors++;
    g_prefix_error (error, "cannot send to %s: ", text);
    return FALSE;
  }
  self->datagrams_out++;
  return TRUE;
}

gboolean
kith_transport_send_to (KithTransport *self, GBytes *datagram, GSocketAddress *to, GError **error)
{
  g_return_val_if_fail (KITH_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (datagram != NULL, FALSE);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (to), FALSE);
  if (!kith_transport_check_started (self, error))
    return FALSE;
  return kith_transport_send_one (self, datagram, to, error);
}

gboolean
kith_transport_broadcast (KithTransport *self, GBytes *datagram, GError **error)
{
  g_autoptr (GError) error_first = NULL;

  g_return_val_if_fail (KITH_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (datagram != NULL, FALSE);

  if (!kith_transport_check_started (self, error))
    return FALSE;
  /* one unreachable destination must not silence the others */
  for (guint i = 0; i < self->destinations->len; i++) {
    g_autoptr (GError) error_local = NULL;
    if (!kith_transport_send_one (self, datagram, g_ptr_array_index (self->destinations, i),
                                  &error_local) &&
        error_first == NULL)
      error_first = g_steal_pointer (&error_local);
  }
  if (error_first != NULL) {
    g_propagate_error (error, g_steal_pointer (&error_first));
    return FALSE;
  }
  return TRUE;
}

GSocketAddress *
kith_transport_get_local_address (KithTransport *self)
{
  g_return_val_if_fail (KITH_IS_TRANSPORT (self), NULL);
  if (self->sender.socket == NULL)
    return NULL;
  return g_socket_get_local_address (self->sender.socket, NULL);
}

guint64
kith_transport_get_datagrams_in (KithTransport *self)
{
  g_return_val_if_fail (KITH_IS_TRANSPORT (self), 0);
  return self->datagrams_in;
}

guint64
kith_transport_get_datagrams_out (KithTransport *self)
{
  g_return_val_if_fail (KITH_IS_TRANSPORT (self), 0);
  return self->datagrams_out;
}

guint64
kith_transport_get_datagrams_oversize (KithTransport *self)
{
  g_return_val_if_fail (KITH_IS_TRANSPORT (self), 0);
  return self->datagrams_oversize;
}

guint64
kith_transport_get_receive_errors (KithTransport *self)
{
  g_return_val_if_fail (KITH_IS_TRANSPORT (self), 0);
  return self->receive_errors;
}

guint64
kith_transport_get_send_errors (KithTransport *self)
{
  g_return_val_if_fail (KITH_IS_TRANSPORT (self), 0);
  return self->send_errors;
}

static void
kith_transport_dispose (GObject *object)
{
  kith_transport_stop (KITH_TRANSPORT (object));
  G_OBJECT_CLASS (kith_transport_parent_class)->dispose (object);
}

static void
kith_transport_finalize (GObject *object)
{
  KithTransport *self = KITH_TRANSPORT (object);
  g_free (self->listen_address);
  g_free (self->send_address);
  g_strfreev (self->broadcast);
  g_free (self->multicast);
  g_ptr_array_unref (self->destinations);
  G_OBJECT_CLASS (kith_transport_parent_class)->finalize (object);
}

static void
kith_transport_class_init (KithTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  object_class->dispose = kith_transport_dispose;
  object_class->finalize = kith_transport_finalize;
  signals[SIGNAL_DATAGRAM] =
      g_signal_new ("datagram", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                    G_TYPE_NONE, 2, G_TYPE_BYTES, G_TYPE_SOCKET_ADDRESS);
}

static void
kith_transport_init (KithTransport *self)
{
  self->destinations = g_ptr_array_new_with_free_func (g_object_unref);
}

KithTransport *
kith_transport_new (guint16 port,
                    const gchar *listen_address,
                    const gchar *send_address,
                    const gchar *const *broadcast,
                    const gchar *multicast)
{
  KithTransport *self;

  g_return_val_if_fail (send_address != NULL, NULL);
  self = g_object_new (KITH_TYPE_TRANSPORT, NULL);
  self->port = port;
  self->listen_address = g_strdup (listen_address);
  self->send_address = g_strdup (send_address);
  self->broadcast = g_strdupv ((gchar **) broadcast);
  self->multicast = g_strdup (multicast);
  return self;
}
