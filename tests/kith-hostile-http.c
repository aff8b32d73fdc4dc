/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-hostile-http.c — a hostile HTTP client, run as its own process by test-http and the
 * bench. It speaks raw sockets on loopback so that it can do what well-behaved clients never
 * do. Every mode ends by itself within the bound it is given and prints one result line.
 *
 *   close-each PORT N           N requests, each on a new keep-alive connection the client closes
 *   chunked PORT PATH MB [HDR]  a chunked POST of MB MiB (HDR: "Name: value" lines joined by '|');
 *                               prints "sent BYTES status CODE" (CODE 0: no answer)
 *   hold PORT N WAIT_MS         opens N connections, waits WAIT_MS; prints "closed K of N"
 *                               (K: the ones the server closed), returning early once K
 *                               stops changing for a while after the first closes
 *   slowloris PORT LIMIT_MS     sends a request head one byte every 200 ms; prints
 *                               "closed-after MS" or "open-after MS"
 *   flood PORT RATE SECONDS     RATE requests per second of random paths (new connection each);
 *                               prints "requests R answered A"
 */
#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

static GSocket *
hostile_connect (guint16 port)
{
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr (GError) error = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  if (socket == NULL || !g_socket_connect (socket, address, NULL, &error)) {
    g_printerr ("kith-hostile-http: connect to %u: %s\n", port, error->message);
    g_clear_object (&socket);
  }
  return socket;
}

static gboolean
hostile_send_all (GSocket *socket, const gchar *data, gsize length)
{
  while (length > 0) {
    gssize n = g_socket_send (socket, data, length, NULL, NULL);
    if (n <= 0)
      return FALSE;
    data += n;
    length -= (gsize) n;
  }
  return TRUE;
}

/* Reads until the end of a response head (or the end of the stream); returns its status. */
static guint
hostile_read_status (GSocket *socket)
{
  GString *head = g_string_new (NULL);
  gchar buffer[4096];
  guint status = 0;

  while (strstr (head->str, "\r\n\r\n") == NULL && head->len < 65536) {
    gssize n = g_socket_receive (socket, buffer, sizeof buffer - 1, NULL, NULL);
    if (n <= 0)
      break;
    g_string_append_len (head, buffer, n);
  }
  if (g_str_has_prefix (head->str, "HTTP/1.") && head->len > 12)
    status = (guint) g_ascii_strtoull (head->str + 9, NULL, 10);
  g_string_free (head, TRUE);
  return status;
}

/* Whether the server closed @socket (a read returns the end of the stream or an error). */
static gboolean
hostile_is_closed (GSocket *socket)
{
  gchar buffer[256];
  gssize n;

  if (!(g_socket_condition_check (socket, G_IO_IN | G_IO_HUP | G_IO_ERR) & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
    return FALSE;
  n = g_socket_receive_with_blocking (socket, buffer, sizeof buffer, FALSE, NULL, NULL);
  return n <= 0;
}

static int
hostile_close_each (guint16 port, guint n)
{
  static const gchar request[] = "GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  guint answered = 0;

  for (guint i = 0; i < n; i++) {
    g_autoptr (GSocket) socket = hostile_connect (port);
    if (socket == NULL)
      return 1;
    g_socket_set_timeout (socket, 10);
    if (hostile_send_all (socket, request, strlen (request)) && hostile_read_status (socket) != 0)
      answered++;
    /* the client hangs up; HTTP/1.1 would have let it keep the connection */
    g_socket_close (socket, NULL);
  }
  g_print ("done %u answered %u\n", n, answered);
  return 0;
}

static int
hostile_chunked (guint16 port, const gchar *path, guint64 mib, const gchar *extra)
{
  g_autoptr (GSocket) socket = hostile_connect (port);
  g_autoptr (GString) head = g_string_new (NULL);
  g_autofree gchar *chunk = NULL;
  gsize chunk_data = 64 * 1024;
  gsize chunk_len;
  guint64 sent = 0, total = mib * 1024 * 1024;
  guint status;

  if (socket == NULL)
    return 1;
  g_socket_set_timeout (socket, 20);
  g_string_printf (head, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n", path);
  if (extra != NULL && extra[0] != '\0') {
    g_auto (GStrv) lines = g_strsplit (extra, "|", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      g_string_append_printf (head, "%s\r\n", lines[i]);
  }
  g_string_append (head, "\r\n");
  chunk = g_malloc (chunk_data + 16);
  chunk_len = (gsize) g_snprintf (chunk, 16, "%" G_GSIZE_MODIFIER "x\r\n", chunk_data);
  memset (chunk + chunk_len, 'k', chunk_data);
  memcpy (chunk + chunk_len + chunk_data, "\r\n", 2);
  chunk_len += chunk_data + 2;
  if (hostile_send_all (socket, head->str, head->len)) {
    while (sent < total && hostile_send_all (socket, chunk, chunk_len))
      sent += chunk_data;
    if (sent >= total)
      hostile_send_all (socket, "0\r\n\r\n", 5);
  }
  status = hostile_read_status (socket);
  g_print ("sent %" G_GUINT64_FORMAT " status %u\n", sent, status);
  return 0;
}

static int
hostile_hold (guint16 port, guint n, guint wait_ms)
{
  g_autoptr (GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 end, last_change;
  guint closed = 0;
  gboolean *gone = g_new0 (gboolean, n);

  for (guint i = 0; i < n; i++) {
    GSocket *socket = hostile_connect (port);
    if (socket == NULL)
      return 1;
    g_ptr_array_add (sockets, socket);
  }
  end = g_get_monotonic_time () + (gint64) wait_ms * 1000;
  last_change = 0;
  while (g_get_monotonic_time () < end) {
    for (guint i = 0; i < n; i++) {
      if (!gone[i] && hostile_is_closed (g_ptr_array_index (sockets, i))) {
        gone[i] = TRUE;
        closed++;
        last_change = g_get_monotonic_time ();
      }
    }
    /* the server closes what it refuses at once: after 1 s without news, that was all */
    if (last_change != 0 && g_get_monotonic_time () - last_change > G_USEC_PER_SEC)
      break;
    g_usleep (10 * 1000);
  }
  g_free (gone);
  g_print ("closed %u of %u\n", closed, n);
  return 0;
}

static int
hostile_slowloris (guint16 port, guint limit_ms)
{
  static const gchar head[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
  g_autoptr (GSocket) socket = hostile_connect (port);
  gint64 start = g_get_monotonic_time ();
  gsize i = 0;

  if (socket == NULL)
    return 1;
  while (g_get_monotonic_time () - start < (gint64) limit_ms * 1000) {
    gchar byte = i < sizeof head - 1 ? head[i] : 'z';
    i++;
    if (g_socket_send (socket, &byte, 1, NULL, NULL) != 1 || hostile_is_closed (socket)) {
      g_print ("closed-after %" G_GINT64_FORMAT "\n", (g_get_monotonic_time () - start) / 1000);
      return 0;
    }
    g_socket_condition_timed_wait (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, 200 * 1000, NULL, NULL);
    if (hostile_is_closed (socket)) {
      g_print ("closed-after %" G_GINT64_FORMAT "\n", (g_get_monotonic_time () - start) / 1000);
      return 0;
    }
  }
  g_print ("open-after %" G_GINT64_FORMAT "\n", (g_get_monotonic_time () - start) / 1000);
  return 0;
}

static int
hostile_flood (guint16 port, guint rate, guint seconds)
{
  gint64 start = g_get_monotonic_time ();
  guint64 requests = 0, answered = 0;
  GRand *rand = g_rand_new ();

  while (g_get_monotonic_time () - start < (gint64) seconds * G_USEC_PER_SEC) {
    gint64 due = start + (gint64) (requests * G_USEC_PER_SEC / rate);
    g_autoptr (GSocket) socket = NULL;
    g_autofree gchar *request = NULL;
    if (g_get_monotonic_time () < due) {
      g_usleep ((gulong) (due - g_get_monotonic_time ()));
      continue;
    }
    socket = hostile_connect (port);
    requests++;
    if (socket == NULL)
      continue;
    g_socket_set_timeout (socket, 5);
    request = g_strdup_printf ("GET /alias/%08x%08x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", g_rand_int (rand),
                               g_rand_int (rand));
    if (hostile_send_all (socket, request, strlen (request)) && hostile_read_status (socket) != 0)
      answered++;
    g_socket_close (socket, NULL);
  }
  g_rand_free (rand);
  g_print ("requests %" G_GUINT64_FORMAT " answered %" G_GUINT64_FORMAT "\n", requests, answered);
  return 0;
}

int
main (int argc, char **argv)
{
  guint16 port = argc > 2 ? (guint16) g_ascii_strtoull (argv[2], NULL, 10) : 0;

  if (argc >= 4 && g_str_equal (argv[1], "close-each"))
    return hostile_close_each (port, (guint) g_ascii_strtoull (argv[3], NULL, 10));
  if (argc >= 5 && g_str_equal (argv[1], "chunked"))
    return hostile_chunked (port, argv[3], g_ascii_strtoull (argv[4], NULL, 10), argc > 5 ? argv[5] : NULL);
  if (argc >= 5 && g_str_equal (argv[1], "hold"))
    return hostile_hold (port, (guint) g_ascii_strtoull (argv[3], NULL, 10),
                         (guint) g_ascii_strtoull (argv[4], NULL, 10));
  if (argc >= 4 && g_str_equal (argv[1], "slowloris"))
    return hostile_slowloris (port, (guint) g_ascii_strtoull (argv[3], NULL, 10));
  if (argc >= 5 && g_str_equal (argv[1], "flood"))
    return hostile_flood (port, (guint) g_ascii_strtoull (argv[3], NULL, 10),
                          (guint) g_ascii_strtoull (argv[4], NULL, 10));
  g_printerr ("usage: kith-hostile-http close-each|chunked|hold|slowloris|flood PORT ...\n");
  return 2;
}
