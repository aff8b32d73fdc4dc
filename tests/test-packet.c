/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-packet.c — KithPacket parse/write: round trips, limits and the corpus of
 * tests/corpus/packet/{good,bad}, whose bad files are named after the expected reason */
#include <check.h>

#include "kith-test-suite.h"
#include <string.h>

#include "kith-packet.h"
#include "kith-peering-error.h"

#define NODE "5f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5"
#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const gchar *corpus_dir = NULL;

static gboolean
str_equal0 (const gchar *a, const gchar *b)
{
  return g_strcmp0 (a, b) == 0;
}

static void
assert_packets_equal (const KithPacket *a, const KithPacket *b)
{
  ck_assert_int_eq (a->type, b->type);
  ck_assert_uint_eq (a->version_major, b->version_major);
  ck_assert_uint_eq (a->id, b->id);
  ck_assert_str_eq (a->node, b->node);
  ck_assert_int_eq (a->method, b->method);
  ck_assert (str_equal0 (a->href, b->href));
  ck_assert (str_equal0 (a->acceptprotocol, b->acceptprotocol));
  ck_assert_int_eq (a->cachedonly, b->cachedonly);
  ck_assert (str_equal0 (a->want, b->want));
  ck_assert (str_equal0 (a->alias, b->alias));
  ck_assert_uint_eq (a->size, b->size);
  ck_assert (str_equal0 (a->sha256, b->sha256));
  ck_assert (str_equal0 (a->cert, b->cert));
  ck_assert (str_equal0 (a->sig, b->sig));
  ck_assert_uint_eq (a->interval, b->interval);
  ck_assert_uint_eq (a->done, b->done);
  ck_assert_uint_eq (a->total, b->total);
  ck_assert (str_equal0 (a->holder, b->holder));
}

/* A packet of @type with every field it may carry set to something non-default. */
static KithPacket *
make_full_packet (KithPacketType type)
{
  KithPacket *p = kith_packet_new (type);
  p->node = g_strdup (NODE);
  p->id = G_MAXUINT32;
  switch (type) {
  case KITH_PACKET_TYPE_REQUEST:
    p->method = KITH_PACKET_METHOD_POST;
    p->href = g_strdup ("http://backend.example/a?x=1&y=\"2\"&z='<3>'");
    p->acceptprotocol = g_strdup ("http");
    p->cachedonly = TRUE;
    p->want = g_strdup ("upload");
    p->holder = g_strdup ("0123456789abcdef0123456789abcdef");
    break;
  case KITH_PACKET_TYPE_RESPONSE:
    p->alias = g_strdup ("http://127.0.0.1:6515/alias/" SHA);
    p->size = G_MAXUINT64;
    p->sha256 = g_strdup (SHA);
    p->cert = g_strdup ("MIIBszCCAVmgAwIBAgIU+/==");
    p->sig = g_strdup ("c2lnbmF0dXJl");
    p->interval = 3600;
    break;
  case KITH_PACKET_TYPE_DOWNLOADING:
  case KITH_PACKET_TYPE_COMPLETE:
    p->href = g_strdup ("http://backend.example/d\xc3\xa9j\xc3\xa0.cab");
    p->alias = g_strdup ("http://127.0.0.1:6515/alias/1");
    p->size = 1048576;
    p->sha256 = g_strdup (SHA);
    p->done = 524288;
    p->total = 1048576;
    break;
  default:
    break;
  }
  return p;
}

static KithPacket *
round_trip (const KithPacket *packet)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = kith_packet_write (packet, &error);
  KithPacket *parsed;
  gsize len;
  const guint8 *data;

  ck_assert_msg (bytes != NULL, "write failed: %s", error ? error->message : "?");
  data = g_bytes_get_data (bytes, &len);
  ck_assert_uint_le (len, KITH_PACKET_MAX_SIZE);
  parsed = kith_packet_parse (data, len, &error);
  ck_assert_msg (parsed != NULL, "parse of %.*s failed: %s", (int) len, data,
                 error ? error->message : "?");
  return parsed;
}

START_TEST (test_round_trip_every_type)
{
  for (guint t = KITH_PACKET_TYPE_UNKNOWN + 1; t < KITH_PACKET_TYPE_LAST; t++) {
    g_autoptr (KithPacket) full = make_full_packet (t);
    g_autoptr (KithPacket) minimal = kith_packet_new (t);
    g_autoptr (KithPacket) full2 = round_trip (full);
    g_autoptr (KithPacket) minimal2 = NULL;

    assert_packets_equal (full, full2);
    /* the minimal packet: only what the header says each type needs */
    minimal->node = g_strdup (NODE);
    if (t == KITH_PACKET_TYPE_REQUEST || t == KITH_PACKET_TYPE_DOWNLOADING ||
        t == KITH_PACKET_TYPE_COMPLETE)
      minimal->href = g_strdup ("http://h/");
    if (t == KITH_PACKET_TYPE_RESPONSE || t == KITH_PACKET_TYPE_DOWNLOADING ||
        t == KITH_PACKET_TYPE_COMPLETE)
      minimal->alias = g_strdup ("http://a/");
    if (t == KITH_PACKET_TYPE_COMPLETE)
      minimal->sha256 = g_strdup (SHA);
    minimal2 = round_trip (minimal);
    assert_packets_equal (minimal, minimal2);
  }
}
END_TEST

START_TEST (test_write_format)
{
  g_autoptr (KithPacket) p = kith_packet_new (KITH_PACKET_TYPE_REQUEST);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;

  p->id = 1111;
  p->node = g_strdup (NODE);
  p->href = g_strdup ("http://b/?a&b");
  bytes = kith_packet_write (p, &error);
  ck_assert_ptr_nonnull (bytes);
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  ck_assert_str_eq (text, "<service type=\"request\" version=\"1.1\" id=\"1111\" node=\"" NODE
                          "\" method=\"get\" href=\"http://b/?a&amp;b\"/>");
}
END_TEST

static void
assert_write_fails (const KithPacket *p, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = kith_packet_write (p, &error);
  ck_assert_ptr_null (bytes);
  ck_assert_msg (g_error_matches (error, KITH_PEERING_ERROR, code), "expected %s, got %s",
                 kith_peering_error_to_reason (code), error ? error->message : "success");
}

START_TEST (test_write_refuses_invalid)
{
  g_autoptr (KithPacket) p = make_full_packet (KITH_PACKET_TYPE_COMPLETE);
  g_autofree gchar *big = g_strnfill (KITH_PACKET_MAX_SIZE, 'x');
  g_autofree gchar *sha = p->sha256;

  p->sha256 = NULL;
  assert_write_fails (p, KITH_PEERING_ERROR_PACKET_MISSING_ATTRIBUTE);
  p->sha256 = (gchar *) "ABC";
  assert_write_fails (p, KITH_PEERING_ERROR_PACKET_BAD_VALUE);
  p->sha256 = g_steal_pointer (&sha);
  p->done = p->total + 1;
  assert_write_fails (p, KITH_PEERING_ERROR_PACKET_BAD_VALUE);
  p->done = 0;
  g_free (p->href);
  p->href = g_strdup ("http://h/\n");
  assert_write_fails (p, KITH_PEERING_ERROR_PACKET_BAD_VALUE);
  g_free (p->href);
  p->href = g_steal_pointer (&big);
  assert_write_fails (p, KITH_PEERING_ERROR_PACKET_TOO_LARGE);
  p->type = KITH_PACKET_TYPE_UNKNOWN;
  assert_write_fails (p, KITH_PEERING_ERROR_PACKET_UNKNOWN_TYPE);
}
END_TEST

/* The holder hint of a request (1.1): a node id like any other, refused otherwise. */
START_TEST (test_holder_hint)
{
  static const gchar *const bad[] = { "0123", "0123456789ABCDEF0123456789ABCDEF",
                                      "0123456789abcdef0123456789abcdeg", "" };
  g_autoptr (KithPacket) p = make_full_packet (KITH_PACKET_TYPE_REQUEST);
  g_autoptr (GError) error = NULL;
  g_autoptr (KithPacket) parsed = NULL;
  const gchar *text = "<service type=\"request\" version=\"1.0\" id=\"7\" node=\"" NODE
                      "\" href=\"http://h/\" holder=\"" NODE "\"/>";

  parsed = kith_packet_parse ((const guint8 *) text, strlen (text), &error);
  ck_assert_ptr_nonnull (parsed);
  ck_assert_str_eq (parsed->holder, NODE);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_free (p->holder);
    p->holder = g_strdup (bad[i]);
    assert_write_fails (p, KITH_PEERING_ERROR_PACKET_BAD_VALUE);
  }
}
END_TEST

/* A string that escapes to more than the limit, though its raw length fits. */
START_TEST (test_write_too_large_after_escaping)
{
  g_autoptr (KithPacket) p = make_full_packet (KITH_PACKET_TYPE_FOUND);
  GString *href = g_string_new ("http://h/");
  while (href->len < 400)
    g_string_append_c (href, '&');
  p->type = KITH_PACKET_TYPE_REQUEST;
  p->href = g_string_free (href, FALSE);
  assert_write_fails (p, KITH_PEERING_ERROR_PACKET_TOO_LARGE);
}
END_TEST

static void
assert_parse_fails (const gchar *data, gsize len, gint code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (KithPacket) p = kith_packet_parse ((const guint8 *) data, len, &error);
  ck_assert_ptr_null (p);
  ck_assert_msg (g_error_matches (error, KITH_PEERING_ERROR, code), "expected %s, got %s",
                 kith_peering_error_to_reason (code), error ? error->message : "success");
}

/* Every strict prefix of a valid packet is dropped as malformed, none crashes. */
START_TEST (test_parse_truncations)
{
  g_autoptr (KithPacket) full = make_full_packet (KITH_PACKET_TYPE_RESPONSE);
  g_autoptr (GBytes) bytes = kith_packet_write (full, NULL);
  gsize len;
  const gchar *data = g_bytes_get_data (bytes, &len);

  ck_assert_ptr_nonnull (bytes);
  for (gsize i = 0; i < len; i++)
    assert_parse_fails (data, i, KITH_PEERING_ERROR_PACKET_MALFORMED);
}
END_TEST

/* The limits exactly at and one past their bounds, built here rather than read. */
START_TEST (test_parse_limits)
{
  g_autoptr (GString) s = g_string_new ("<service type=\"found\" version=\"1.0\" id=\"1\" node=\"" NODE "\"");
  g_autoptr (KithPacket) p = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 4; i < KITH_PACKET_MAX_ATTRIBUTES; i++)
    g_string_append_printf (s, " a%u=\"\"", i);
  g_string_append (s, "/>");
  p = kith_packet_parse ((const guint8 *) s->str, s->len, &error);
  ck_assert_msg (p != NULL, "%s", error ? error->message : "");
  g_string_insert (s, s->len - 2, " z=\"\"");
  assert_parse_fails (s->str, s->len, KITH_PEERING_ERROR_PACKET_TOO_MANY_ATTRIBUTES);

  g_string_truncate (s, 0);
  g_string_append (s, "<service type=\"found\" version=\"1.0\" id=\"1\" node=\"" NODE "\" pad=\"");
  while (s->len < KITH_PACKET_MAX_SIZE - 3)
    g_string_append_c (s, 'p');
  g_string_append (s, "\"/>");
  ck_assert_uint_eq (s->len, KITH_PACKET_MAX_SIZE);
  g_clear_pointer (&p, kith_packet_free);
  p = kith_packet_parse ((const guint8 *) s->str, s->len, NULL);
  ck_assert_ptr_nonnull (p);
  g_string_insert_c (s, 0, ' ');
  assert_parse_fails (s->str, s->len, KITH_PEERING_ERROR_PACKET_TOO_LARGE);
  assert_parse_fails (NULL, 0, KITH_PEERING_ERROR_PACKET_MALFORMED);
}
END_TEST

/* Random mutations of valid packets: each is parsed or dropped with a packet code. */
START_TEST (test_parse_mutations)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1967);
  for (guint t = KITH_PACKET_TYPE_UNKNOWN + 1; t < KITH_PACKET_TYPE_LAST; t++) {
    g_autoptr (KithPacket) full = make_full_packet (t);
    g_autoptr (GBytes) bytes = kith_packet_write (full, NULL);
    gsize len;
    const guint8 *orig = g_bytes_get_data (bytes, &len);
    for (guint n = 0; n < 2000; n++) {
      g_autofree guint8 *buf = g_memdup2 (orig, len);
      g_autoptr (GError) error = NULL;
      g_autoptr (KithPacket) p = NULL;
      for (guint k = g_rand_int_range (rand, 1, 4); k > 0; k--)
        buf[g_rand_int_range (rand, 0, (gint32) len)] = (guint8) g_rand_int_range (rand, 0, 256);
      p = kith_packet_parse (buf, len, &error);
      if (p == NULL) {
        ck_assert (error != NULL && error->domain == KITH_PEERING_ERROR);
        ck_assert_int_ge (error->code, KITH_PEERING_ERROR_PACKET_TOO_LARGE);
        ck_assert_int_le (error->code, KITH_PEERING_ERROR_PACKET_DUPLICATE_ATTRIBUTE);
      } else {
        /* whatever was accepted must be writable again */
        g_autoptr (GBytes) again = kith_packet_write (p, &error);
        ck_assert_msg (again != NULL, "%s", error ? error->message : "");
      }
    }
  }
}
END_TEST

START_TEST (test_type_names)
{
  for (guint t = KITH_PACKET_TYPE_UNKNOWN + 1; t < KITH_PACKET_TYPE_LAST; t++)
    ck_assert_int_eq (kith_packet_type_from_string (kith_packet_type_to_string (t)), t);
  ck_assert_str_eq (kith_packet_type_to_string (KITH_PACKET_TYPE_END_REQUEST), "end-request");
  ck_assert_ptr_null (kith_packet_type_to_string (KITH_PACKET_TYPE_UNKNOWN));
  ck_assert_ptr_null (kith_packet_type_to_string (KITH_PACKET_TYPE_LAST));
  ck_assert_int_eq (kith_packet_type_from_string (NULL), KITH_PACKET_TYPE_UNKNOWN);
  ck_assert_int_eq (kith_packet_type_from_string ("Request"), KITH_PACKET_TYPE_UNKNOWN);
  ck_assert_str_eq (kith_packet_method_to_string (KITH_PACKET_METHOD_POST), "post");
}
END_TEST

START_TEST (test_error_reasons)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (gint code = 0; code < KITH_PEERING_ERROR_LAST; code++) {
    const gchar *reason = kith_peering_error_to_reason (code);
    ck_assert_ptr_nonnull (reason);
    ck_assert_int_gt (strlen (reason), 0);
    ck_assert_msg (g_hash_table_add (seen, (gpointer) reason), "duplicate reason %s", reason);
  }
  ck_assert_str_eq (kith_peering_error_to_reason (KITH_PEERING_ERROR_PACKET_TOO_LARGE), "too-large");
  ck_assert_str_eq (kith_peering_error_to_reason (-1), "unknown");
  ck_assert_str_eq (kith_peering_error_to_reason (KITH_PEERING_ERROR_LAST), "unknown");
  ck_assert_uint_ne (KITH_PEERING_ERROR, 0);
}
END_TEST

/* The sorted *.xml names of corpus/packet/@sub; at least one, or the corpus is lost. */
static GPtrArray *
corpus_list (const gchar *sub)
{
  g_autofree gchar *path = g_build_filename (corpus_dir, sub, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  ck_assert_msg (dir != NULL, "corpus: %s", error ? error->message : "");
  while ((name = g_dir_read_name (dir)) != NULL) {
    if (g_str_has_suffix (name, ".xml"))
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  }
  ck_assert_uint_gt (names->len, 0);
  return names;
}

/* The code whose reason is the longest prefix of @basename followed by '-' or '.'. */
static gint
expected_code (const gchar *basename)
{
  gint best = -1;
  gsize best_len = 0;
  for (gint code = 0; code < KITH_PEERING_ERROR_LAST; code++) {
    const gchar *reason = kith_peering_error_to_reason (code);
    gsize n = strlen (reason);
    if (strncmp (basename, reason, n) == 0 && (basename[n] == '-' || basename[n] == '.') &&
        n > best_len) {
      best = code;
      best_len = n;
    }
  }
  ck_assert_msg (best >= 0, "%s does not start with a reason", basename);
  return best;
}

typedef void (*CorpusCheck) (const gchar *base, KithPacket *packet, const GError *error);

/* Parses each file of corpus/packet/@sub and hands @check its name and what came of it. */
static void
corpus_check_each (const gchar *sub, CorpusCheck check)
{
  g_autoptr (GPtrArray) files = corpus_list (sub);

  for (guint i = 0; i < files->len; i++) {
    const gchar *path = g_ptr_array_index (files, i);
    g_autofree gchar *base = g_path_get_basename (path);
    g_autofree gchar *data = NULL;
    g_autoptr (GError) error = NULL;
    g_autoptr (KithPacket) p = NULL;
    gsize len;

    ck_assert (g_file_get_contents (path, &data, &len, NULL));
    p = kith_packet_parse ((const guint8 *) data, len, &error);
    check (base, p, error);
  }
}

static void
corpus_check_good (const gchar *base, KithPacket *p, const GError *error)
{
  g_autoptr (KithPacket) again = NULL;
  KithPacketType want = KITH_PACKET_TYPE_UNKNOWN;

  ck_assert_msg (p != NULL, "%s: %s", base, error ? error->message : "");
  /* good files are named <type>-<what>.xml */
  for (guint t = KITH_PACKET_TYPE_UNKNOWN + 1; t < KITH_PACKET_TYPE_LAST; t++) {
    const gchar *tn = kith_packet_type_to_string (t);
    if (g_str_has_prefix (base, tn) && base[strlen (tn)] == '-' &&
        (want == KITH_PACKET_TYPE_UNKNOWN || strlen (tn) > strlen (kith_packet_type_to_string (want))))
      want = t;
  }
  ck_assert_msg (p->type == want, "%s parsed as %s", base, kith_packet_type_to_string (p->type));
  ck_assert_str_eq (p->node, NODE);
  again = round_trip (p);
  p->version_minor = again->version_minor;
  assert_packets_equal (p, again);
}

START_TEST (test_corpus_good)
{
  corpus_check_each ("good", corpus_check_good);
}
END_TEST

static void
corpus_check_bad (const gchar *base, KithPacket *p, const GError *error)
{
  gint want = expected_code (base);

  ck_assert_msg (p == NULL, "%s was accepted", base);
  ck_assert_msg (g_error_matches (error, KITH_PEERING_ERROR, want), "%s: got %s (%s)", base,
                 error ? kith_peering_error_to_reason (error->code) : "no error",
                 error ? error->message : "");
}

START_TEST (test_corpus_bad)
{
  corpus_check_each ("bad", corpus_check_bad);
}
END_TEST

static Suite *
packet_suite (void)
{
  Suite *s = suite_create ("packet");
  TCase *tc = tcase_create ("core");
  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_round_trip_every_type);
  tcase_add_test (tc, test_write_format);
  tcase_add_test (tc, test_write_refuses_invalid);
  tcase_add_test (tc, test_holder_hint);
  tcase_add_test (tc, test_write_too_large_after_escaping);
  tcase_add_test (tc, test_parse_truncations);
  tcase_add_test (tc, test_parse_limits);
  tcase_add_test (tc, test_parse_mutations);
  tcase_add_test (tc, test_type_names);
  tcase_add_test (tc, test_error_reasons);
  tcase_add_test (tc, test_corpus_good);
  tcase_add_test (tc, test_corpus_bad);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
  /* meson passes the corpus directory; a bare run from tests/ also works */
  corpus_dir = argc > 1 ? argv[1] : g_getenv ("KITH_PACKET_CORPUS");
  if (corpus_dir == NULL)
    corpus_dir = "corpus/packet";
  return kith_test_run_suite (packet_suite ());
}
