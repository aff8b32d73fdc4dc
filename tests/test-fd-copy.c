/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-fd-copy.c — a finished file into the caller's descriptor: a regular file from where
 * the source stands, a non-blocking pipe its reader drains slowly, and a pipe nobody reads,
 * whose copy ends when cancelled */
#include <check.h>

#include "kith-test-suite.h"
#include "kith-test-util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <gio/gio.h>
#include <gio/gunixoutputstream.h>
#include <string.h>
#include <unistd.h>

#include "kith-fd-copy.h"

#define SIZE (3 * 1024 * 1024 + 5)
#define WAIT_TIMEOUT_S 20

static gchar *tmp_dir;
static gchar *source_path;
static GBytes *content;

static void
setup (void)
{
  g_autoptr (GError) error = NULL;
  guint8 *data = g_malloc (SIZE);

  tmp_dir = g_dir_make_tmp ("kith-fd-copy-XXXXXX", &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < SIZE; i++)
    data[i] = (guint8) (i * 7 + i / 509);
  content = g_bytes_new_take (data, SIZE);
  source_path = g_build_filename (tmp_dir, "source", NULL);
  ck_assert (g_file_set_contents (source_path, g_bytes_get_data (content, NULL), SIZE, NULL));
}

static void
teardown (void)
{
  kith_test_rm_rf (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
  g_clear_pointer (&source_path, g_free);
  g_clear_pointer (&content, g_bytes_unref);
}

typedef struct {
  gssize copied;
  GError *error;
  gboolean done;
} Copied;

static void
copied_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Copied *copied = user_data;

  copied->copied = kith_fd_copy_finish (result, &copied->error);
  copied->done = TRUE;
}

static GInputStream *
open_source (goffset at)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) file = g_file_new_for_path (source_path);
  GFileInputStream *input = g_file_read (file, NULL, &error);

  g_assert_no_error (error);
  ck_assert (g_seekable_seek (G_SEEKABLE (input), at, G_SEEK_SET, NULL, NULL));
  return G_INPUT_STREAM (input);
}

/* Iterates until @copied is done (bounded). */
static void
wait_copied (Copied *copied)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_TIMEOUT_S, kith_test_timeout_cb, &timed_out);

  while (!copied->done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (!timed_out, "the copy did not end");
  g_source_remove (id);
}

/* Into a regular file, from where the source was read up to, and the source closed after. */
START_TEST (test_to_a_file)
{
  g_autofree gchar *path = g_build_filename (tmp_dir, "destination", NULL);
  g_autoptr (GInputStream) source = open_source (1000);
  g_autoptr (GOutputStream) destination = NULL;
  g_autofree gchar *got = NULL;
  gsize len = 0;
  Copied copied = { 0 };
  gint fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  ck_assert_int_ge (fd, 0);
  destination = g_unix_output_stream_new (fd, TRUE);
  kith_fd_copy_async (source, destination, NULL, copied_cb, &copied);
  wait_copied (&copied);
  g_assert_no_error (copied.error);
  ck_assert_int_eq (copied.copied, SIZE - 1000);
  ck_assert (g_input_stream_is_closed (source));
  ck_assert (g_file_get_contents (path, &got, &len, NULL));
  ck_assert_uint_eq (len, SIZE - 1000);
  ck_assert (memcmp (got, (const guint8 *) g_bytes_get_data (content, NULL) + 1000, len) == 0);
}
END_TEST

/* Into a non-blocking pipe, read by this thread 64 KiB at a time: every byte, in order. */
START_TEST (test_to_a_pipe)
{
  g_autoptr (GInputStream) source = open_source (0);
  g_autoptr (GOutputStream) destination = NULL;
  g_autoptr (GByteArray) got = g_byte_array_new ();
  guint8 buffer[64 * 1024];
  Copied copied = { 0 };
  gboolean timed_out = FALSE;
  guint id;
  gint fds[2];

  ck_assert_int_eq (pipe (fds), 0);
  ck_assert_int_eq (fcntl (fds[0], F_SETFL, O_NONBLOCK), 0);
  ck_assert_int_eq (fcntl (fds[1], F_SETFL, O_NONBLOCK), 0);
  destination = g_unix_output_stream_new (fds[1], TRUE);
  kith_fd_copy_async (source, destination, NULL, copied_cb, &copied);
  id = g_timeout_add_seconds (WAIT_TIMEOUT_S, kith_test_timeout_cb, &timed_out);
  while (got->len < SIZE && !timed_out) {
    gssize n = read (fds[0], buffer, sizeof buffer);
    if (n > 0)
      g_byte_array_append (got, buffer, (guint) n);
    else
      g_main_context_iteration (NULL, FALSE);
  }
  ck_assert_msg (!timed_out, "the pipe got %u of %u bytes", got->len, SIZE);
  g_source_remove (id);
  wait_copied (&copied);
  g_assert_no_error (copied.error);
  ck_assert_int_eq (copied.copied, SIZE);
  ck_assert_uint_eq (got->len, SIZE);
  ck_assert (memcmp (got->data, g_bytes_get_data (content, NULL), SIZE) == 0);
  close (fds[0]);
}
END_TEST

/* A pipe nobody reads fills; cancelled then, the copy ends with G_IO_ERROR_CANCELLED. */
START_TEST (test_cancelled_while_full)
{
  g_autoptr (GInputStream) source = open_source (0);
  g_autoptr (GOutputStream) destination = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Copied copied = { 0 };
  gint fds[2];

  ck_assert_int_eq (pipe (fds), 0);
  ck_assert_int_eq (fcntl (fds[1], F_SETFL, O_NONBLOCK), 0);
  destination = g_unix_output_stream_new (fds[1], TRUE);
  kith_fd_copy_async (source, destination, cancellable, copied_cb, &copied);
  /* the copy is waiting once the pipe holds all it can */
  for (gint queued = 0, size = fcntl (fds[1], F_GETPIPE_SZ); queued < size;) {
    struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
    ck_assert_int_eq (ioctl (fds[0], FIONREAD, &queued), 0);
    ck_assert (!copied.done);
    poll (&pfd, 1, 10);
  }
  g_cancellable_cancel (cancellable);
  wait_copied (&copied);
  g_assert_error (copied.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  ck_assert_int_eq (copied.copied, -1);
  g_clear_error (&copied.error);
  close (fds[0]);
}
END_TEST

static Suite *
fd_copy_suite (void)
{
  Suite *s = suite_create ("fd-copy");
  TCase *tc = tcase_create ("copy");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_to_a_file);
  tcase_add_test (tc, test_to_a_pipe);
  tcase_add_test (tc, test_cancelled_while_full);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return kith_test_run_suite (fd_copy_suite ());
}
