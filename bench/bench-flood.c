/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-flood.c — a hostile LAN's packet flood, for bench/attack.sh
 *
 *   bench-flood ADDRESS PORT RATE SECONDS
 *
 * Sends RATE peering packets per second for SECONDS to ADDRESS:PORT (a broadcast address on
 * loopback: 127.255.255.255): well-formed `request`, `downloading` and `complete` packets
 * (docs/protocol.md) for random URLs from random node ids, and a share of random bytes, so
 * that every table the agent keeps per URL, node and source is fed. Prints one line:
 * "bench: flood SENT SECONDS_TAKEN".
 */
#include <gio/gio.h>
#include <string.h>

static gchar *
flood_hex (GRand *rand, guint digits)
{
  gchar *text = g_malloc (digits + 1);
  for (guint i = 0; i < digits; i++)
    text[i] = "0123456789abcdef"[g_rand_int_range (rand, 0, 16)];
  text[digits] = '\0';
  return text;
}

static gsize
flood_packet (GRand *rand, gchar *buffer, gsize size)
{
  g_autofree gchar *node = flood_hex (rand, 32);
  g_autofree gchar *path = flood_hex (rand, 16);
  g_autofree gchar *sha = NULL;
  guint kind = (guint) g_rand_int_range (rand, 0, 10);
  gint n;

  if (kind < 6) {
    n = g_snprintf (buffer, size,
                    "<service type=\"request\" version=\"1.0\" id=\"%u\" node=\"%s\" method=\"get\" "
                    "href=\"http://192.0.2.1/%s\" acceptprotocol=\"http\"/>",
                    g_rand_int (rand), node, path);
  } else if (kind < 8) {
    n = g_snprintf (buffer, size,
                    "<service type=\"downloading\" version=\"1.0\" node=\"%s\" href=\"http://192.0.2.1/%s\" "
                    "alias=\"http://127.0.0.1:9/alias/%s\" done=\"%u\" total=\"1000000\"/>",
                    node, path, path, g_rand_int_range (rand, 0, 1000000));
  } else if (kind < 9) {
    sha = flood_hex (rand, 64);
    n = g_snprintf (buffer, size,
                    "<service type=\"complete\" version=\"1.0\" node=\"%s\" href=\"http://192.0.2.1/%s\" "
                    "alias=\"http://127.0.0.1:9/alias/%s\" size=\"1000\" sha256=\"%s\"/>",
                    node, path, sha, sha);
  } else {
    n = g_rand_int_range (rand, 1, 1400);
    for (gint i = 0; i < n; i++)
      buffer[i] = (gchar) g_rand_int_range (rand, 0, 256);
  }
  return (gsize) MIN ((gsize) n, size - 1);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) inet = NULL;
  g_autoptr (GSocketAddress) to = NULL;
  g_autoptr (GRand) rand = g_rand_new ();
  guint64 rate, seconds, sent = 0, due;
  gint64 start, now;
  gchar buffer[1500];

  if (argc != 5 || (inet = g_inet_address_new_from_string (argv[1])) == NULL) {
    g_printerr ("usage: bench-flood ADDRESS PORT RATE SECONDS\n");
    return 2;
  }
  rate = g_ascii_strtoull (argv[3], NULL, 10);
  seconds = g_ascii_strtoull (argv[4], NULL, 10);
  to = g_inet_socket_address_new (inet, (guint16) g_ascii_strtoull (argv[2], NULL, 10));
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  if (socket == NULL) {
    g_printerr ("bench-flood: %s\n", error->message);
    return 1;
  }
  g_socket_set_broadcast (socket, TRUE);
  start = g_get_monotonic_time ();
  while ((now = g_get_monotonic_time ()) - start < (gint64) seconds * G_USEC_PER_SEC) {
    /* in bursts: the packets due by now go out, then a short sleep */
    due = (guint64) (now - start) * rate / G_USEC_PER_SEC;
    while (sent < due) {
      gsize length = flood_packet (rand, buffer, sizeof buffer);
      g_socket_send_to (socket, to, buffer, length, NULL, NULL);
      sent++;
    }
    g_usleep (1000);
  }
  g_print ("bench: flood %" G_GUINT64_FORMAT " %.2f\n", sent,
           (g_get_monotonic_time () - start) / (gdouble) G_USEC_PER_SEC);
  return 0;
}
