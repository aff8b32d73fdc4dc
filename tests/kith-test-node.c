/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-node.c — a node of the multi-agent suites and the fetches it is asked for */
#include "kith-test-node.h"

#include <check.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

gchar *
kith_test_node_peering_config (guint16 port, const gchar *extra)
{
  return g_strdup_printf ("[peering]\n"
                          "port=%u\n"
                          "listen=127.255.255.255\n"
                          "send-address=127.0.0.1\n"
                          "broadcast=127.255.255.255\n"
                          "%s\n",
                          port, extra != NULL ? extra : "");
}

KithTestNode *
kith_test_node_new (const gchar *plugins, const gchar *config)
{
  KithTestNode *self = g_new0 (KithTestNode, 1);

  self->agent = kith_test_agent_new (plugins, config);
  return self;
}

void
kith_test_node_start_unconnected (KithTestNode *self)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (kith_test_agent_start (self->agent, &error), "%s", error != NULL ? error->message : "");
  self->running = TRUE;
}

void
kith_test_node_start (KithTestNode *self)
{
  g_autoptr (GError) error = NULL;

  kith_test_node_start_unconnected (self);
  self->connection = kith_test_agent_connect (self->agent, &error);
  g_assert_no_error (error);
}

KithTestNode *
kith_test_node_start_new (const gchar *plugins, const gchar *config)
{
  KithTestNode *self = kith_test_node_new (plugins, config);

  kith_test_node_start (self);
  return self;
}

KithTestNode *
kith_test_node_start_peering (guint16 port, const gchar *extra)
{
  g_autofree gchar *config = kith_test_node_peering_config (port, extra);

  return kith_test_node_start_new ("peering", config);
}

void
kith_test_node_stop (KithTestNode *self)
{
  g_clear_object (&self->connection);
  self->running = FALSE;
  ck_assert_int_eq (kith_test_agent_stop (self->agent), 0);
}

void
kith_test_node_kill (KithTestNode *self)
{
  g_clear_object (&self->connection);
  self->running = FALSE;
  kith_test_agent_kill (self->agent);
}

void
kith_test_node_free (KithTestNode *self)
{
  if (self->running)
    kith_test_node_stop (self);
  g_clear_object (&self->connection);
  kith_test_agent_free (self->agent);
  g_free (self);
}

guint64
kith_test_node_peering_status (KithTestNode *self, const gchar *key)
{
  g_autoptr (GVariant) section = kith_test_get_status_section (self->connection, "peering");
  guint64 value = 0;

  ck_assert_msg (g_variant_lookup (section, key, "t", &value), "no %s in status", key);
  return value;
}

gdouble
kith_test_node_peering_counter (KithTestNode *self, const gchar *map, const gchar *labels)
{
  g_autoptr (GVariant) section = kith_test_get_status_section (self->connection, "peering");
  g_autoptr (GVariant) series = g_variant_lookup_value (section, map, G_VARIANT_TYPE ("a{sd}"));
  gdouble value = 0, v;
  GVariantIter iter;

  if (series == NULL)
    return 0;
  if (labels != NULL) {
    g_variant_lookup (series, labels, "d", &value);
    return value;
  }
  g_variant_iter_init (&iter, series);
  while (g_variant_iter_next (&iter, "{&sd}", NULL, &v))
    value += v;
  return value;
}

gboolean
kith_test_node_cache_verified (gpointer node)
{
  KithTestNode *self = node;
  g_autoptr (GVariant) section = kith_test_get_status_section (self->connection, "peering");
  gboolean verifying = TRUE;

  g_variant_lookup (section, "cache-verifying", "b", &verifying);
  return !verifying;
}

static void
kith_test_fetch_notify (GObject *proxy, GParamSpec *pspec, KithTestFetch *self)
{
  self->max_done = MAX (self->max_done, kith_dbus_transfer1_get_bytes_done (KITH_DBUS_TRANSFER1 (proxy)));
}

KithTestFetch *
kith_test_fetch_start_options_fd (KithTestNode *node, const gchar *url, GVariant *options, gint fd)
{
  KithTestFetch *self = g_new0 (KithTestFetch, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GVariant) reply = NULL;
  const gchar *path = NULL;

  g_unix_fd_list_append (fds, fd, &error);
  g_assert_no_error (error);
  self->started_us = g_get_monotonic_time ();
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      node->connection, NULL, "/org/kith/Agent1/Peering", "org.kith.Peering1", "Fetch",
      g_variant_new ("(sh@a{sv})", url, 0, options), G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1, fds,
      NULL, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(&o)", &path);
  self->proxy = kith_dbus_transfer1_proxy_new_sync (node->connection, G_DBUS_PROXY_FLAGS_NONE, NULL, path,
                                                    NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (self->proxy, "notify", G_CALLBACK (kith_test_fetch_notify), self);
  return self;
}

KithTestFetch *
kith_test_fetch_start_options (KithTestNode *node, const gchar *url, GVariant *options)
{
  g_autofree gchar *dest = g_build_filename (kith_test_agent_get_dir (node->agent), "fetched-XXXXXX", NULL);
  gint fd = g_mkstemp (dest);
  KithTestFetch *self;

  ck_assert_int_ge (fd, 0);
  self = kith_test_fetch_start_options_fd (node, url, options, fd);
  close (fd);
  self->dest = g_steal_pointer (&dest);
  return self;
}

/* The options of kith_test_fetch_start(), floating. */
static GVariant *
kith_test_fetch_options (const gchar *sha256, guint64 size, gboolean cached_only)
{
  GVariantDict options;

  g_variant_dict_init (&options, NULL);
  if (sha256 != NULL)
    g_variant_dict_insert (&options, "sha256", "s", sha256);
  if (size > 0)
    g_variant_dict_insert (&options, "size", "t", size);
  if (cached_only)
    g_variant_dict_insert (&options, "cached-only", "b", TRUE);
  return g_variant_dict_end (&options);
}

KithTestFetch *
kith_test_fetch_start_fd (KithTestNode *node, const gchar *url, const gchar *sha256, guint64 size,
                          gboolean cached_only, gint fd)
{
  return kith_test_fetch_start_options_fd (node, url, kith_test_fetch_options (sha256, size, cached_only), fd);
}

KithTestFetch *
kith_test_fetch_start (KithTestNode *node, const gchar *url, const gchar *sha256, guint64 size,
                       gboolean cached_only)
{
  return kith_test_fetch_start_options (node, url, kith_test_fetch_options (sha256, size, cached_only));
}

gboolean
kith_test_fetch_is_finished (gpointer fetch)
{
  KithTestFetch *self = fetch;
  const gchar *state = kith_dbus_transfer1_get_state (self->proxy);

  return g_strcmp0 (state, "done") == 0 || g_strcmp0 (state, "failed") == 0;
}

const gchar *
kith_test_fetch_wait_done (KithTestFetch *self, GBytes *content, guint timeout_ms)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;

  ck_assert_msg (kith_test_wait_until (kith_test_fetch_is_finished, self, timeout_ms),
                 "transfer did not end within %u ms (state %s)", timeout_ms,
                 kith_dbus_transfer1_get_state (self->proxy));
  self->ended_us = g_get_monotonic_time ();
  ck_assert_msg (g_strcmp0 (kith_dbus_transfer1_get_state (self->proxy), "done") == 0, "transfer failed: %s",
                 kith_dbus_transfer1_get_error (self->proxy));
  if (content != NULL && self->dest != NULL) {
    g_assert_true (g_file_get_contents (self->dest, &data, &len, NULL));
    ck_assert_uint_eq (len, g_bytes_get_size (content));
    ck_assert_msg (memcmp (data, g_bytes_get_data (content, NULL), len) == 0, "not the origin's bytes");
  }
  return kith_dbus_transfer1_get_source (self->proxy);
}

gint64
kith_test_fetch_get_elapsed_ms (KithTestFetch *self)
{
  return (self->ended_us - self->started_us) / 1000;
}

gchar *
kith_test_fetch_sync (KithTestNode *node, const gchar *url, const gchar *sha256, gboolean cached_only,
                      GBytes *content)
{
  g_autoptr (KithTestFetch) fetch = kith_test_fetch_start (node, url, sha256, 0, cached_only);

  return g_strdup (kith_test_fetch_wait_done (fetch, content, 30000));
}

void
kith_test_fetch_free (KithTestFetch *self)
{
  g_clear_object (&self->proxy);
  if (self->dest != NULL)
    g_unlink (self->dest);
  g_free (self->dest);
  g_free (self);
}
