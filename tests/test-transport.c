/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-transport.c — KithTransport on loopback: shared listeners, own send sockets
 *
 * Every test picks a free random port and tags its datagrams with a random nonce, so suites
 * running in parallel cannot disturb each other. Nothing sleeps: each wait iterates the main
 * loop until the expected datagrams are in, under a timeout that fails the test. Only
 * 127.0.0.0/8, 127.255.255.255, ::1 and multicast joined on "lo" are used.
 */

#include <check.h>

#include "kith-test-suite.h"
#include "kith-test-util.h"
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "kith-peering-error.h"
#include "kith-transport.h"

#define BROADCAST_LO "127.255.255.255"
#define GROUP_V4 "239.255.19.67%lo"
#define GROUP_V6 "ff02::4b:1967%lo"
#define WAIT_SECONDS 5

static const gchar *const broadcast_lo[] = {BROADCAST_LO, NULL};
static const gchar *self_exe = NULL;

/* what one transport heard: the words of the datagrams tagged with this run's nonce */
typedef struct {
  KithTransport *transport;
  const gchar *nonce;
  GPtrArray *words;
  GSocketAddress *hello_from;
} Peer;

static gchar *
make_nonce (void)
{
  g_autoptr (GRand) rand = g_rand_new ();
  return g_strdup_printf ("%08x%08x", g_rand_int (rand), g_rand_int (rand));
}

/* A port no socket holds on the broadcast address, shared or not. */
static guint16
pick_port (void)
{
  g_autoptr (GRand) rand = g_rand_new ();
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (BROADCAST_LO);

  for (guint i = 0; i < 100; i++) {
    guint16 port = (guint16) g_rand_int_range (rand, 20000, 60000);
    g_autoptr (GSocketAddress) address = g_inet_socket_address_new (inet, port);
    g_autoptr (GSocket) probe =
        g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    ck_assert_ptr_nonnull (probe);
    if (g_socket_bind (probe, address, FALSE, NULL))
      return port;
  }
  ck_abort_msg ("no free UDP port found");
  return 0;
}

static GBytes *
make_datagram (const gchar *nonce, const gchar *word, gsize pad_to)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_string_printf (text, "%s %s", nonce, word);
  if (pad_to > text->len) {
    g_string_append_c (text, ' ');
    while (text->len < pad_to)
      g_string_append_c (text, 'x');
  }
  return g_bytes_new (text->str, text->len);
}

static void
peer_datagram_cb (KithTransport *transport, GBytes *data, GSocketAddress *from, Peer *peer)
{
  gsize size = 0;
  const gchar *buf = g_bytes_get_data (data, &size);
  gsize len = strlen (peer->nonce);
  const gchar *word;
  const gchar *end;

  /* anything not tagged with our nonce belongs to someone else */
  if (size <= len || memcmp (buf, peer->nonce, len) != 0 || buf[len] != ' ')
    return;
  word = buf + len + 1;
  end = memchr (word, ' ', size - len - 1);
  g_ptr_array_add (peer->words, g_strndup (word, end != NULL ? (gsize) (end - word)
                                                             : size - len - 1));
  if (g_str_equal (g_ptr_array_index (peer->words, peer->words->len - 1), "hello"))
    g_set_object (&peer->hello_from, from);
}

static Peer *
peer_new (const gchar *nonce, KithTransport *transport)
{
  Peer *peer = g_new0 (Peer, 1);
  peer->nonce = nonce;
  peer->transport = transport;
  peer->words = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (transport, "datagram", G_CALLBACK (peer_datagram_cb), peer);
  return peer;
}

static void
peer_free (Peer *peer)
{
  g_signal_handlers_disconnect_by_data (peer->transport, peer);
  g_object_unref (peer->transport);
  g_clear_object (&peer->hello_from);
  g_ptr_array_unref (peer->words);
  g_free (peer);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

/* A started loopback transport sharing @port, or NULL with @error set. */
static Peer *
peer_start (const gchar *nonce, guint16 port, const gchar *multicast, GError **error)
{
  g_autoptr (Peer) peer = peer_new (
      nonce, kith_transport_new (port, BROADCAST_LO, "127.0.0.1", broadcast_lo, multicast));
  if (!kith_transport_start (peer->transport, error))
    return NULL;
  return g_steal_pointer (&peer);
}

static guint
peer_count (Peer *peer, const gchar *word)
{
  guint n = 0;
  for (guint i = 0; i < peer->words->len; i++)
    if (g_str_equal (g_ptr_array_index (peer->words, i), word))
      n++;
  return n;
}

/* No check calls here and in peer_send(): the child process runs them outside check. */
static gboolean
peer_wait (Peer *peer, const gchar *word, guint count)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_SECONDS, kith_test_timeout_cb, &timed_out);
  while (peer_count (peer, word) < count && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  return !timed_out;
}

static gboolean
peer_send (Peer *peer, const gchar *word, GSocketAddress *to, GError **error)
{
  g_autoptr (GBytes) datagram = make_datagram (peer->nonce, word, 0);
  if (to != NULL)
    return kith_transport_send_to (peer->transport, datagram, to, error);
  return kith_transport_broadcast (peer->transport, datagram, error);
}

static void
wait_for_word (Peer *peer, const gchar *word, guint count)
{
  ck_assert_msg (peer_wait (peer, word, count), "timed out waiting for %u '%s'", count, word);
}

static void
wait_for_flag (gboolean *flag, const gchar *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_SECONDS, kith_test_timeout_cb, &timed_out);
  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  ck_assert_msg (!timed_out, "timed out waiting for %s", what);
}

static void
send_word (Peer *peer, const gchar *word, GSocketAddress *to)
{
  g_autoptr (GError) error = NULL;
  ck_assert_msg (peer_send (peer, word, to, &error), "sending '%s': %s", word,
                 error != NULL ? error->message : "");
}

static guint16
address_port (GSocketAddress *address)
{
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
}

/* --- the child process: echo "hello" back to its sender, then broadcast a barrier --- */

static void
child_datagram_cb (KithTransport *transport, GBytes *data, GSocketAddress *from, Peer *peer)
{
  g_autoptr (GError) error = NULL;
  if (peer_count (peer, "hello") != 1 || peer->hello_from != from)
    return;
  if (!peer_send (peer, "echo", from, &error) || !peer_send (peer, "barrier", NULL, &error))
    fprintf (stderr, "child: %s\n", error->message);
}

static int
child_main (const gchar *port_text, const gchar *nonce)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = peer_start (nonce, (guint16) g_ascii_strtoull (port_text, NULL, 10),
                                     NULL, &error);
  if (peer == NULL) {
    fprintf (stderr, "child: %s\n", error->message);
    return 1;
  }
  g_signal_connect_after (peer->transport, "datagram", G_CALLBACK (child_datagram_cb), peer);
  printf ("ready\n");
  fflush (stdout);
  /* exits once its own barrier came back, i.e. after it echoed; bounded by the timeout */
  return peer_wait (peer, "barrier", 1) ? 0 : 1;
}

static void
child_line_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autofree gchar *line =
      g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), res, NULL, NULL);
  ck_assert_str_eq (line != NULL ? line : "(eof)", "ready");
  *(gboolean *) user_data = TRUE;
}

static void
child_exit_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  ck_assert_msg (g_subprocess_wait_check_finish (G_SUBPROCESS (source), res, &error),
                 "child failed: %s", error != NULL ? error->message : "");
  *(gboolean *) user_data = TRUE;
}

static GSubprocess *
spawn_child (guint16 port, const gchar *nonce)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *port_text = g_strdup_printf ("%u", port);
  g_autoptr (GDataInputStream) out = NULL;
  gboolean ready = FALSE;
  g_autoptr (GSubprocess) child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                                   self_exe, "--echo", port_text, nonce, NULL);
  ck_assert_msg (child != NULL, "spawn: %s", error != NULL ? error->message : "");
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, child_line_cb, &ready);
  wait_for_flag (&ready, "the child to start");
  return g_steal_pointer (&child);
}

/* --- tests --- */

START_TEST (test_transport_broadcast_unicast)
{
  g_autofree gchar *nonce = make_nonce ();
  guint16 port = pick_port ();
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) a = peer_start (nonce, port, NULL, &error);
  g_autoptr (Peer) b = NULL;
  g_autoptr (Peer) c = NULL;
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GSocketAddress) a_local = NULL;
  gboolean exited = FALSE;

  ck_assert_msg (a != NULL, "start: %s", error != NULL ? error->message : "");
  b = peer_start (nonce, port, NULL, &error);
  ck_assert_msg (b != NULL, "start: %s", error != NULL ? error->message : "");
  c = peer_start (nonce, port, NULL, &error);
  ck_assert_msg (c != NULL, "start: %s", error != NULL ? error->message : "");
  child = spawn_child (port, nonce);

  /* one broadcast reaches all three listeners here (A's own too) and the child's */
  send_word (a, "hello", NULL);
  wait_for_word (a, "hello", 1);
  wait_for_word (b, "hello", 1);
  wait_for_word (c, "hello", 1);
  a_local = kith_transport_get_local_address (a->transport);
  ck_assert_uint_eq (address_port (b->hello_from), address_port (a_local));

  /* the child echoes to the source address: only A hears it; the child's barrier
   * broadcast, sent after the echo, proves B and C had the chance to hear it */
  wait_for_word (a, "echo", 1);
  wait_for_word (b, "barrier", 1);
  wait_for_word (c, "barrier", 1);
  ck_assert_uint_eq (peer_count (a, "echo"), 1);
  ck_assert_uint_eq (peer_count (b, "echo"), 0);
  ck_assert_uint_eq (peer_count (c, "echo"), 0);
  g_subprocess_wait_check_async (child, NULL, child_exit_cb, &exited);
  wait_for_flag (&exited, "the child to exit");

  /* the same inside one process: B replies to the `from` of A's hello */
  send_word (b, "reply", b->hello_from);
  send_word (b, "barrier2", NULL);
  wait_for_word (a, "reply", 1);
  wait_for_word (c, "barrier2", 1);
  wait_for_word (b, "barrier2", 1);
  ck_assert_uint_eq (peer_count (b, "reply"), 0);
  ck_assert_uint_eq (peer_count (c, "reply"), 0);
  ck_assert_uint_eq (peer_count (a, "hello"), 1);
  ck_assert_uint_eq (kith_transport_get_datagrams_out (a->transport), 1);
  ck_assert_uint_eq (kith_transport_get_receive_errors (a->transport), 0);
}
END_TEST

/* Two transports with no broadcast listener hear each other through the group only. */
static void
check_multicast (const gchar *send_address, const gchar *group)
{
  g_autofree gchar *nonce = make_nonce ();
  guint16 port = pick_port ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) datagram = make_datagram (nonce, "group", 0);
  g_autoptr (Peer) a = peer_new (nonce, kith_transport_new (port, NULL, send_address, NULL, group));
  g_autoptr (Peer) b = peer_new (nonce, kith_transport_new (port, NULL, send_address, NULL, group));

  if (!kith_transport_start (a->transport, &error)) {
    printf ("SKIP multicast %s: the kernel refuses it here: %s\n", group, error->message);
    return;
  }
  ck_assert_msg (kith_transport_start (b->transport, &error), "start: %s", error->message);
  if (!kith_transport_broadcast (a->transport, datagram, &error)) {
    ck_assert_msg (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE),
                   "multicast send: %s", error->message);
    printf ("SKIP multicast %s: no multicast route on lo: %s\n", group, error->message);
    ck_assert_uint_eq (kith_transport_get_send_errors (a->transport), 1);
    return;
  }
  wait_for_word (a, "group", 1);
  wait_for_word (b, "group", 1);
  ck_assert_uint_eq (kith_transport_get_datagrams_out (a->transport), 1);
}

START_TEST (test_transport_multicast_ipv4)
{
  check_multicast ("127.0.0.1", GROUP_V4);
}
END_TEST

START_TEST (test_transport_multicast_ipv6)
{
  check_multicast ("::1", GROUP_V6);
}
END_TEST

/* IPv6 send sockets: unicast between two transports on ::1 with no listener at all. */
START_TEST (test_transport_ipv6_unicast)
{
  g_autofree gchar *nonce = make_nonce ();
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) a = peer_new (nonce, kith_transport_new (1, NULL, "::1", NULL, NULL));
  g_autoptr (Peer) b = peer_new (nonce, kith_transport_new (1, NULL, "::1", NULL, NULL));
  g_autoptr (GSocketAddress) b_local = NULL;

  ck_assert_msg (kith_transport_start (a->transport, &error), "start: %s", error->message);
  ck_assert_msg (kith_transport_start (b->transport, &error), "start: %s", error->message);
  /* nothing to broadcast to: a no-op that succeeds */
  send_word (a, "nobody", NULL);
  ck_assert_uint_eq (kith_transport_get_datagrams_out (a->transport), 0);
  b_local = kith_transport_get_local_address (b->transport);
  ck_assert_int_eq (g_socket_address_get_family (b_local), G_SOCKET_FAMILY_IPV6);
  send_word (a, "hello", b_local);
  wait_for_word (b, "hello", 1);
  send_word (b, "reply", b->hello_from);
  wait_for_word (a, "reply", 1);
  {
    g_autoptr (GSocketAddress) a_local = kith_transport_get_local_address (a->transport);
    ck_assert_uint_eq (address_port (b->hello_from), address_port (a_local));
  }
}
END_TEST

START_TEST (test_transport_oversize)
{
  g_autofree gchar *nonce = make_nonce ();
  guint16 port = pick_port ();
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) a = peer_start (nonce, port, NULL, &error);
  g_autoptr (Peer) b = NULL;
  g_autoptr (GSocketAddress) b_local = NULL;
  g_autoptr (GBytes) max = make_datagram (nonce, "max", KITH_TRANSPORT_MAX_DATAGRAM);
  g_autoptr (GBytes) over = make_datagram (nonce, "over", KITH_TRANSPORT_MAX_DATAGRAM + 1);
  g_autoptr (GBytes) huge = make_datagram (nonce, "huge", 3000);

  ck_assert_msg (a != NULL, "start: %s", error != NULL ? error->message : "");
  b = peer_start (nonce, port, NULL, &error);
  ck_assert_msg (b != NULL, "start: %s", error != NULL ? error->message : "");
  b_local = kith_transport_get_local_address (b->transport);
  ck_assert (kith_transport_send_to (a->transport, over, b_local, &error));
  ck_assert (kith_transport_send_to (a->transport, huge, b_local, &error));
  ck_assert (kith_transport_send_to (a->transport, max, b_local, &error));
  send_word (a, "small", b_local);
  wait_for_word (b, "small", 1);
  ck_assert_uint_eq (peer_count (b, "max"), 1);
  ck_assert_uint_eq (peer_count (b, "over"), 0);
  ck_assert_uint_eq (peer_count (b, "huge"), 0);
  ck_assert_uint_eq (kith_transport_get_datagrams_oversize (b->transport), 2);
  ck_assert_uint_eq (kith_transport_get_datagrams_in (b->transport), 2);
  ck_assert_uint_eq (kith_transport_get_datagrams_out (a->transport), 4);
}
END_TEST

static void
stop_in_handler_cb (KithTransport *transport, GBytes *data, GSocketAddress *from, gpointer user_data)
{
  kith_transport_stop (transport);
}

START_TEST (test_transport_restart)
{
  g_autofree gchar *nonce = make_nonce ();
  guint16 port = pick_port ();
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) a = peer_start (nonce, port, NULL, &error);
  g_autoptr (Peer) b = NULL;
  g_autoptr (GBytes) datagram = make_datagram (nonce, "none", 0);
  g_autoptr (GSocketAddress) b_local = NULL;

  ck_assert_msg (a != NULL, "start: %s", error != NULL ? error->message : "");
  b = peer_start (nonce, port, NULL, &error);
  ck_assert_msg (b != NULL, "start: %s", error != NULL ? error->message : "");
  ck_assert (!kith_transport_start (a->transport, &error));
  ck_assert (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED));
  g_clear_error (&error);

  kith_transport_stop (a->transport);
  kith_transport_stop (a->transport);
  ck_assert_ptr_null (kith_transport_get_local_address (a->transport));
  ck_assert (!kith_transport_broadcast (a->transport, datagram, &error));
  ck_assert (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_FAILED));
  g_clear_error (&error);

  ck_assert_msg (kith_transport_start (a->transport, &error), "restart: %s", error->message);
  send_word (a, "again", NULL);
  wait_for_word (b, "again", 1);
  wait_for_word (a, "again", 1);

  /* a handler may stop the transport that is emitting: the rest of the batch is dropped */
  g_signal_connect_after (b->transport, "datagram", G_CALLBACK (stop_in_handler_cb), NULL);
  b_local = kith_transport_get_local_address (b->transport);
  send_word (a, "first", b_local);
  send_word (a, "second", b_local);
  wait_for_word (b, "first", 1);
  ck_assert_ptr_null (kith_transport_get_local_address (b->transport));
  ck_assert_uint_eq (peer_count (b, "second"), 0);
}
END_TEST

static void
assert_start_fails (KithTransport *transport, GQuark domain, gint code)
{
  g_autoptr (KithTransport) owned = transport;
  g_autoptr (GError) error = NULL;
  ck_assert (!kith_transport_start (owned, &error));
  ck_assert_msg (g_error_matches (error, domain, code), "unexpected error: %s", error->message);
  ck_assert_ptr_null (kith_transport_get_local_address (owned));
}

START_TEST (test_transport_errors)
{
  guint16 port = pick_port ();
  const gchar *const bad[] = {"127.255.255.256", NULL};
  const gchar *const v4[] = {BROADCAST_LO, NULL};
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (BROADCAST_LO);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (inet, port);
  g_autoptr (GSocket) hog = NULL;

  assert_start_fails (kith_transport_new (port, "nowhere", "127.0.0.1", NULL, NULL),
                      G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_start_fails (kith_transport_new (port, BROADCAST_LO, "127.0.0.1", bad, NULL),
                      G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_start_fails (kith_transport_new (port, BROADCAST_LO, "::1", v4, NULL), G_IO_ERROR,
                      G_IO_ERROR_INVALID_ARGUMENT);
  assert_start_fails (kith_transport_new (port, BROADCAST_LO, "127.0.0.1", v4, "127.0.0.2"),
                      G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_start_fails (kith_transport_new (port, NULL, "127.0.0.1", v4, "239.1.2.3%nosuchif0"),
                      G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  assert_start_fails (kith_transport_new (port, NULL, "::1", NULL, GROUP_V4), G_IO_ERROR,
                      G_IO_ERROR_INVALID_ARGUMENT);

  /* a socket that holds the port without sharing it locks us out, with a clear error */
  hog = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
  ck_assert (g_socket_bind (hog, address, FALSE, NULL));
  assert_start_fails (kith_transport_new (port, BROADCAST_LO, "127.0.0.1", v4, NULL), G_IO_ERROR,
                      G_IO_ERROR_ADDRESS_IN_USE);
}
END_TEST

static Suite *
transport_suite (void)
{
  Suite *s = suite_create ("transport");
  TCase *tc = tcase_create ("core");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_transport_broadcast_unicast);
  tcase_add_test (tc, test_transport_multicast_ipv4);
  tcase_add_test (tc, test_transport_multicast_ipv6);
  tcase_add_test (tc, test_transport_ipv6_unicast);
  tcase_add_test (tc, test_transport_oversize);
  tcase_add_test (tc, test_transport_restart);
  tcase_add_test (tc, test_transport_errors);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  self_exe = argv[0];
  if (argc == 4 && g_str_equal (argv[1], "--echo"))
    return child_main (argv[2], argv[3]);
  return kith_test_run_suite (transport_suite ());
}
