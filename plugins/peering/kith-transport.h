/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-transport.h — the peering UDP transport: a shared listener plus an own send socket
 *
 * Each agent owns:
 *  - a LISTENER bound to `listen-address`:`port` with SO_REUSEADDR, shared by every agent of
 *    the host, for broadcasts;
 *  - a MULTICAST listener bound to the group:`port` (shared the same way), when a group is set;
 *  - a SEND socket bound to `send-address`:ephemeral, its own, for everything it sends.
 * A reply goes unicast to the source address:port of the datagram it answers, i.e. to the
 * asker's send socket, so it reaches exactly that agent. Every socket feeds the `datagram`
 * signal. An agent also receives its own broadcasts: callers filter by node id.
 *
 * Binding on loopback (measured on Linux 6.x, see docs/protocol.md "Transport"):
 *  - listeners bound to 127.255.255.255 (the broadcast address of lo) all receive a datagram
 *    sent to 127.255.255.255:port, however many processes share the port; unicast never
 *    reaches them. Listeners bound to 127.0.0.1 receive NO broadcast (the kernel delivers a
 *    broadcast only to sockets bound to the wildcard or to that broadcast address) and
 *    exactly ONE of them gets a unicast to 127.0.0.1:port.
 *  - IPv4 multicast works on lo when the group is joined on, and sent out of, "lo"
 *    (group "239.255.19.67%lo"); IPv6 multicast does not: lo has no ff00::/8 route, so
 *    sending fails with "Network is unreachable".
 * Stock LAN defaults may use listen 0.0.0.0 and broadcast 255.255.255.255; tests never do.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Longest datagram delivered; longer ones are dropped and counted as oversize. */
#define KITH_TRANSPORT_MAX_DATAGRAM 1400

#define KITH_TYPE_TRANSPORT (kith_transport_get_type ())
G_DECLARE_FINAL_TYPE (KithTransport, kith_transport, KITH, TRANSPORT, GObject)

/* A stopped transport. @listen_address: the shared listener's address, NULL for none (IPv6:
 * multicast only); @send_address: the send socket's address (its port is ephemeral);
 * @broadcast: NULL-terminated destinations of kith_transport_broadcast(), may be NULL;
 * @multicast: "GROUP" or "GROUP%IFACE" (239.x.y.z, ff02::…), NULL for none — IFACE is the
 * interface it is joined on and sent out of, the kernel's choice when absent.
 * Addresses are parsed by kith_transport_start(). Caller owns the result. */
KithTransport *kith_transport_new (guint16 port,
                                   const gchar *listen_address,
                                   const gchar *send_address,
                                   const gchar *const *broadcast,
                                   const gchar *multicast);
/* Open and bind the sockets and watch them on the thread-default main context. Errors:
 * G_IO_ERROR_INVALID_ARGUMENT for a bad address or family mix, G_IO_ERROR_ADDRESS_IN_USE when
 * the port is held by a socket that does not allow sharing, other G_IO_ERROR codes from the
 * kernel, KITH_PEERING_ERROR_FAILED when already started. On error nothing stays open. */
gboolean kith_transport_start (KithTransport *self, GError **error);
/* Close every socket; safe to call twice, from a `datagram` handler too; start() may follow. */
void kith_transport_stop (KithTransport *self);
/* Send @datagram to every broadcast address and to the multicast group; tries them all,
 * returns FALSE with the first error if any failed. */
gboolean kith_transport_broadcast (KithTransport *self, GBytes *datagram, GError **error);
/* Send @datagram unicast to @to (typically the `from` of a received datagram). */
gboolean kith_transport_send_to (KithTransport *self,
                                 GBytes *datagram,
                                 GSocketAddress *to,
                                 GError **error);
/* The send socket's bound address (where replies to us go), NULL when stopped. Caller owns it. */
GSocketAddress *kith_transport_get_local_address (KithTransport *self);

/* Counters since creation (they survive stop/start). */
guint64 kith_transport_get_datagrams_in (KithTransport *self);       /* delivered by `datagram` */
guint64 kith_transport_get_datagrams_out (KithTransport *self);      /* sent, one per destination */
guint64 kith_transport_get_datagrams_oversize (KithTransport *self); /* dropped: > MAX_DATAGRAM */
guint64 kith_transport_get_receive_errors (KithTransport *self);
guint64 kith_transport_get_send_errors (KithTransport *self);

/* Signal `datagram` (GBytes *data, GSocketAddress *from): one received datagram, from any of
 * the sockets; both arguments are owned by the emitter (ref them to keep them). */

G_END_DECLS
