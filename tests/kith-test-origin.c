/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-origin.c — a small origin HTTP server for tests, in its own thread */
#include "kith-test-origin.h"
#include "kith-test-thread.h"

#include <libsoup/soup.h>

#define KITH_TEST_ORIGIN_SLICE_MS 50

struct _KithTestOrigin {
  KithTestThread *thread;
  GMainContext *context; /* the thread's */
  SoupServer *server;
  guint16 port;
  GMutex mutex;
  GHashTable *files;    /* path → KithTestOriginFile* */
  GHashTable *requests; /* path → count */
  GHashTable *bytes;    /* path → guint64*: body bytes written */
  GPtrArray *slow;      /* KithTestOriginSlow*, freed with the origin */
  gboolean digest;      /* state Repr-Digest */
};

typedef struct {
  GBytes *content;
  guint rate;
  gsize hold;     /* bytes sent before a GET answer pauses; 0: none */
  GPtrArray *held; /* SoupServerMessage*: answers paused at @hold */
} KithTestOriginFile;

typedef struct {
  SoupServerMessage *msg;
  GBytes *content;
  gsize offset;
  guint rate;
  GSource *timer;
} KithTestOriginSlow;

static void
kith_test_origin_file_free (KithTestOriginFile *file)
{
  g_ptr_array_unref (file->held);
  g_bytes_unref (file->content);
  g_free (file);
}

/* Throttled bodies go out a slice at a time from a timer in the server's thread. */
static gboolean
kith_test_origin_slow_tick (gpointer user_data)
{
  KithTestOriginSlow *slow = user_data;
  gsize size = g_bytes_get_size (slow->content);
  gsize slice = MAX (1, (gsize) slow->rate * KITH_TEST_ORIGIN_SLICE_MS / 1000);
  gsize n = MIN (slice, size - slow->offset);
  SoupMessageBody *body = soup_server_message_get_response_body (slow->msg);
  g_autoptr (GBytes) part = g_bytes_new_from_bytes (slow->content, slow->offset, n);

  soup_message_body_append_bytes (body, part);
  slow->offset += n;
  if (slow->offset >= size)
    soup_message_body_complete (body);
  soup_server_message_unpause (slow->msg);
  if (slow->offset < size)
    return G_SOURCE_CONTINUE;
  g_source_unref (slow->timer);
  slow->timer = NULL;
  return G_SOURCE_REMOVE;
}

static void
kith_test_origin_slow_stop (KithTestOriginSlow *slow)
{
  if (slow->timer == NULL)
    return;
  g_source_destroy (slow->timer);
  g_source_unref (slow->timer);
  slow->timer = NULL;
}

/* A client that leaves mid-body (a cancelled fetch) finishes the message: no more slices. */
static void
kith_test_origin_slow_finished (SoupServerMessage *msg, KithTestOriginSlow *slow)
{
  kith_test_origin_slow_stop (slow);
}

static void
kith_test_origin_slow_free (KithTestOriginSlow *slow)
{
  kith_test_origin_slow_stop (slow);
  g_signal_handlers_disconnect_by_data (slow->msg, slow);
  g_object_unref (slow->msg);
  g_bytes_unref (slow->content);
  g_free (slow);
}

static void
kith_test_origin_serve_slow (KithTestOrigin *self, SoupServerMessage *msg, KithTestOriginFile *file)
{
  KithTestOriginSlow *slow = g_new0 (KithTestOriginSlow, 1);
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  gsize size = g_bytes_get_size (file->content);
  SoupRange *ranges = NULL;
  int n_ranges = 0;

  /* one range is answered with its bytes only, as a real origin does (libsoup's own range
   * handling would see the paused answer's empty body and say 416) */
  if (soup_message_headers_get_ranges (soup_server_message_get_request_headers (msg), (goffset) size, &ranges,
                                       &n_ranges) && n_ranges == 1) {
    slow->content = g_bytes_new_from_bytes (file->content, (gsize) ranges[0].start,
                                            (gsize) (ranges[0].end - ranges[0].start + 1));
    soup_message_headers_set_content_range (hdrs, ranges[0].start, ranges[0].end, (goffset) size);
    soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
  } else {
    slow->content = g_bytes_ref (file->content);
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  }
  if (ranges != NULL)
    soup_message_headers_free_ranges (soup_server_message_get_request_headers (msg), ranges);
  slow->rate = file->rate;
  soup_message_headers_set_encoding (hdrs, SOUP_ENCODING_CONTENT_LENGTH);
  soup_message_headers_set_content_length (hdrs, (goffset) g_bytes_get_size (slow->content));
  g_ptr_array_add (self->slow, slow);
  slow->msg = g_object_ref (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (kith_test_origin_slow_finished), slow);
  slow->timer = g_timeout_source_new (KITH_TEST_ORIGIN_SLICE_MS);
  g_source_set_callback (slow->timer, kith_test_origin_slow_tick, slow, NULL);
  g_source_attach (slow->timer, self->context);
  soup_server_message_pause (msg);
}

static void
kith_test_origin_held_finished (SoupServerMessage *msg, KithTestOriginFile *file)
{
  g_ptr_array_remove (file->held, msg);
}

/* The first file->hold bytes now, the rest on release. Called with the mutex held. */
static void
kith_test_origin_serve_held (SoupServerMessage *msg, KithTestOriginFile *file)
{
  g_autoptr (GBytes) part = g_bytes_new_from_bytes (file->content, 0, file->hold);

  soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg),
                                           g_bytes_get_size (file->content));
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), part);
  g_ptr_array_add (file->held, g_object_ref (msg));
  g_signal_connect (msg, "finished", G_CALLBACK (kith_test_origin_held_finished), file);
}

typedef struct {
  KithTestOrigin *origin;
  gchar *path;
} KithTestOriginCount;

static void
kith_test_origin_count_free (gpointer data, GClosure *closure)
{
  KithTestOriginCount *count = data;

  g_free (count->path);
  g_free (count);
}

/* Body bytes of a GET answer as they are written (of its range only, for a Range). */
static void
kith_test_origin_wrote (SoupServerMessage *msg, guint chunk_size, KithTestOriginCount *count)
{
  KithTestOrigin *self = count->origin;
  guint64 *bytes;

  g_mutex_lock (&self->mutex);
  bytes = g_hash_table_lookup (self->bytes, count->path);
  if (bytes == NULL) {
    bytes = g_new0 (guint64, 1);
    g_hash_table_insert (self->bytes, g_strdup (count->path), bytes);
  }
  *bytes += chunk_size;
  g_mutex_unlock (&self->mutex);
}

static void
kith_test_origin_handle (SoupServer *server, SoupServerMessage *msg, const char *path,
                         GHashTable *query, gpointer user_data)
{
  KithTestOrigin *self = user_data;
  KithTestOriginFile *file;
  gboolean ranged = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Range") != NULL;

  g_mutex_lock (&self->mutex);
  file = g_hash_table_lookup (self->files, path);
  if (file != NULL && g_strcmp0 (soup_server_message_get_method (msg), "GET") == 0) {
    guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->requests, path));
    KithTestOriginCount *bytes = g_new0 (KithTestOriginCount, 1);
    g_hash_table_insert (self->requests, g_strdup (path), GUINT_TO_POINTER (count + 1));
    bytes->origin = self;
    bytes->path = g_strdup (path);
    g_signal_connect_data (msg, "wrote-body-data", G_CALLBACK (kith_test_origin_wrote), bytes,
                           kith_test_origin_count_free, 0);
  }
  g_mutex_unlock (&self->mutex);
  if (file == NULL) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (g_atomic_int_get (&self->digest)) {
    g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
    guint8 raw[32];
    gsize raw_len = sizeof raw;
    g_autofree gchar *b64 = NULL;
    g_autofree gchar *value = NULL;

    g_checksum_update (checksum, g_bytes_get_data (file->content, NULL), g_bytes_get_size (file->content));
    g_checksum_get_digest (checksum, raw, &raw_len);
    b64 = g_base64_encode (raw, raw_len);
    value = g_strdup_printf ("sha-256=:%s:", b64);
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Repr-Digest", value);
  }
  if (file->rate > 0) {
    kith_test_origin_serve_slow (self, msg, file);
    return;
  }
  g_mutex_lock (&self->mutex);
  if (file->hold > 0 && !ranged && g_strcmp0 (soup_server_message_get_method (msg), "GET") == 0) {
    kith_test_origin_serve_held (msg, file);
    g_mutex_unlock (&self->mutex);
    return;
  }
  g_mutex_unlock (&self->mutex);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), file->content);
}

static void
kith_test_origin_start (gpointer user_data)
{
  KithTestOrigin *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  GSList *uris;

  self->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (self->server, NULL, kith_test_origin_handle, self, NULL);
  address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  g_assert_true (soup_server_listen (self->server, address, 0, &error));
  uris = soup_server_get_uris (self->server);
  self->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
}

static void
kith_test_origin_stop (gpointer user_data)
{
  KithTestOrigin *self = user_data;

  g_ptr_array_set_size (self->slow, 0);
  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
}

KithTestOrigin *
kith_test_origin_new (void)
{
  KithTestOrigin *self = g_new0 (KithTestOrigin, 1);

  g_mutex_init (&self->mutex);
  self->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) kith_test_origin_file_free);
  self->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->bytes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->digest = TRUE;
  self->slow = g_ptr_array_new_with_free_func ((GDestroyNotify) kith_test_origin_slow_free);
  self->thread = kith_test_thread_new ("kith-test-origin", kith_test_origin_start, kith_test_origin_stop, self);
  self->context = kith_test_thread_get_context (self->thread);
  return self;
}

void
kith_test_origin_free (KithTestOrigin *self)
{
  kith_test_thread_free (self->thread);
  g_hash_table_unref (self->files);
  g_hash_table_unref (self->requests);
  g_hash_table_unref (self->bytes);
  g_ptr_array_unref (self->slow);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

void
kith_test_origin_add (KithTestOrigin *self, const gchar *path, GBytes *content, guint rate)
{
  KithTestOriginFile *file = g_new0 (KithTestOriginFile, 1);

  file->content = g_bytes_ref (content);
  file->rate = rate;
  file->held = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_lock (&self->mutex);
  g_hash_table_replace (self->files, g_strdup (path), file);
  g_mutex_unlock (&self->mutex);
}

void
kith_test_origin_hold (KithTestOrigin *self, const gchar *path, gsize bytes)
{
  KithTestOriginFile *file;

  g_mutex_lock (&self->mutex);
  file = g_hash_table_lookup (self->files, path);
  g_assert_nonnull (file);
  g_assert_cmpuint (bytes, <, g_bytes_get_size (file->content));
  file->hold = bytes;
  g_mutex_unlock (&self->mutex);
}

typedef struct {
  KithTestOrigin *origin;
  gchar *path;
} KithTestOriginRelease;

/* In the server's thread: the rest of each held body, and no more holding. */
static gboolean
kith_test_origin_release_now (gpointer user_data)
{
  KithTestOriginRelease *release = user_data;
  KithTestOrigin *self = release->origin;
  KithTestOriginFile *file;
  g_autoptr (GPtrArray) held = NULL;

  g_mutex_lock (&self->mutex);
  file = g_hash_table_lookup (self->files, release->path);
  held = g_steal_pointer (&file->held);
  file->held = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_unlock (&self->mutex);
  for (guint i = 0; i < held->len; i++) {
    SoupServerMessage *msg = g_ptr_array_index (held, i);
    SoupMessageBody *body = soup_server_message_get_response_body (msg);
    g_autoptr (GBytes) rest = g_bytes_new_from_bytes (file->content, file->hold,
                                                      g_bytes_get_size (file->content) - file->hold);
    g_signal_handlers_disconnect_by_data (msg, file);
    soup_message_body_append_bytes (body, rest);
    soup_message_body_complete (body);
    soup_server_message_unpause (msg);
  }
  g_mutex_lock (&self->mutex);
  file->hold = 0;
  g_mutex_unlock (&self->mutex);
  g_free (release->path);
  g_free (release);
  return G_SOURCE_REMOVE;
}

void
kith_test_origin_release (KithTestOrigin *self, const gchar *path)
{
  KithTestOriginRelease *release = g_new0 (KithTestOriginRelease, 1);

  release->origin = self;
  release->path = g_strdup (path);
  g_main_context_invoke (self->context, kith_test_origin_release_now, release);
}

gchar *
kith_test_origin_url (KithTestOrigin *self, const gchar *path)
{
  return g_strdup_printf ("http://127.0.0.1:%u%s", self->port, path);
}

void
kith_test_origin_set_digest (KithTestOrigin *self, gboolean digest)
{
  g_atomic_int_set (&self->digest, digest);
}

typedef struct {
  GMutex mutex;
  GCond cond;
  gboolean passed;
} KithTestOriginBarrier;

static gboolean
kith_test_origin_barrier_pass (gpointer user_data)
{
  KithTestOriginBarrier *barrier = user_data;

  g_mutex_lock (&barrier->mutex);
  barrier->passed = TRUE;
  g_cond_signal (&barrier->cond);
  g_mutex_unlock (&barrier->mutex);
  return G_SOURCE_REMOVE;
}

/* Returns once the server's thread has finished whatever it was running when called.
 *
 * The body bytes of an answer are counted in "wrote-body-data", which libsoup 3 emits in
 * the same call that writes them to the socket (soup-server-io.c io_write(): the
 * non-blocking g_pollable_stream_write(), then at once soup_server_message_wrote_body_data()
 * for what it wrote), in the server's thread. The client may read those bytes, and the test
 * ask for the count, before that thread gets to the emission: descheduled between the
 * write and the signal, a whole body written in one go on loopback is missing from the
 * count. A no-op dispatched in the server's context runs only after the dispatch doing
 * such a write has returned, so after it every byte a client has seen is counted. It
 * waits for no answer to end: a held or throttled one stays as it is, and nothing the
 * server's thread runs blocks. */
static void
kith_test_origin_sync (KithTestOrigin *self)
{
  KithTestOriginBarrier barrier = { 0 };
  GSource *source;
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;

  if (g_main_context_is_owner (self->context))
    return;
  g_mutex_init (&barrier.mutex);
  g_cond_init (&barrier.cond);
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, kith_test_origin_barrier_pass, &barrier, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);
  g_mutex_lock (&barrier.mutex);
  while (!barrier.passed)
    if (!g_cond_wait_until (&barrier.cond, &barrier.mutex, deadline))
      g_error ("the origin's thread ran nothing for 30 s");
  g_mutex_unlock (&barrier.mutex);
  g_mutex_clear (&barrier.mutex);
  g_cond_clear (&barrier.cond);
}

/* Not synced: a request is counted by the handler, before any byte of its answer is sent. */
guint
kith_test_origin_get_requests (KithTestOrigin *self, const gchar *path)
{
  guint count;
  g_mutex_lock (&self->mutex);
  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->requests, path));
  g_mutex_unlock (&self->mutex);
  return count;
}

guint64
kith_test_origin_get_bytes (KithTestOrigin *self, const gchar *path)
{
  guint64 *bytes;
  guint64 value;

  kith_test_origin_sync (self);
  g_mutex_lock (&self->mutex);
  bytes = g_hash_table_lookup (self->bytes, path);
  value = bytes != NULL ? *bytes : 0;
  g_mutex_unlock (&self->mutex);
  return value;
}

GBytes *
kith_test_make_content (gsize size, guint32 seed)
{
  guint8 *data = g_malloc (size);
  GRand *rand = g_rand_new_with_seed (seed);

  for (gsize i = 0; i < size; i++)
    data[i] = g_rand_int (rand) & 0xff;
  g_rand_free (rand);
  return g_bytes_new_take (data, size);
}

gchar *
kith_test_sha256 (GBytes *bytes)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}
