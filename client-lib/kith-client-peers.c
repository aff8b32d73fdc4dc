/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-client-peers.c — other nodes' downloads: the peering plugin's PeerDownload signal
 * as KithClient::peer-download */
#include "kith-client-private.h"

static void
kith_client_peer_download_cb (GDBusConnection *connection, const gchar *sender_name,
                              const gchar *object_path, const gchar *interface_name,
                              const gchar *signal_name, GVariant *parameters, gpointer user_data)
{
  KithClient *self = KITH_CLIENT (user_data);
  const gchar *href, *node;
  guint64 done, total;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sstt)"))) {
    g_debug ("PeerDownload with signature %s ignored", g_variant_get_type_string (parameters));
    return;
  }
  g_variant_get (parameters, "(&s&stt)", &href, &node, &done, &total);
  g_signal_emit_by_name (self, "peer-download", href, node, done, total);
}

gboolean
kith_client_watch_peers (KithClient *self, GError **error)
{
  g_autoptr (GPtrArray) plugins = NULL;
  gboolean running = FALSE;
  guint subscription;

  g_return_val_if_fail (KITH_IS_CLIENT (self), FALSE);
  if (!kith_client_check_connected (self, error))
    return FALSE;
  if (kith_client_get_peer_watch (self) != 0)
    return TRUE;
  plugins = kith_client_get_plugins (self);
  for (guint i = 0; i < plugins->len; i++) {
    KithClientPlugin *plugin = g_ptr_array_index (plugins, i);
    if (g_strcmp0 (plugin->name, "peering") == 0)
      running = kith_client_plugin_is_running (plugin);
  }
  /* a signal never comes from a missing plugin: say so now rather than wait forever */
  if (!running) {
    g_set_error (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_PLUGIN_MISSING,
                 "The kith agent at %s runs no peering plugin: add peering to plugins= in "
                 "its config; `kith status` says why a plugin failed", kith_client_get_target (self));
    return FALSE;
  }
  subscription = kith_client_subscribe_plugin_signal (self, "Peering", "org.kith.Peering1", "PeerDownload",
                                                      kith_client_peer_download_cb, self, NULL);
  kith_client_set_peer_watch (self, subscription);
  return TRUE;
}
