/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-agent.c — the service manager (FIG. 8, 502; docs/architecture.md): config, identity, HTTP,
 * D-Bus, and the plugins with their service registry */
#include "kith-agent-private.h"
#include "kith-dbus-private.h"

#include "kith-config.h"
#include "kith-dbus-generated.h"
#include "kith-node-id.h"
#include "kith-plugin-loader.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "kith-build-config.h"

struct _KithAgent {
  GObject parent_instance;
  KithConfig *config;
  KithHttp *http;
  KithDbus *dbus;
  KithMetrics *metrics;
  KithDbusAgent1 *skeleton;
  GPtrArray *plugins;   /* KithPlugin*, start order */
  GHashTable *services; /* name → GObject* */
  gchar *node_id;
  gchar *state_dir;
  gchar *backend_url;
  gchar *trust_anchor;
  gchar *enrollment_token;
  gboolean offline;
  KithBackendRoute *route; /* direct, or through a relay (docs/relay.md) */
  gboolean metrics_any; /* [agent] metrics=any: /metrics for every client, not only loopback */
  gint64 started_us;
  gboolean running;
};

G_DEFINE_TYPE (KithAgent, kith_agent, G_TYPE_OBJECT)

static const gchar *const kith_agent_keys[] = {
  "state-dir", "plugin-dir", "plugins", "optional-plugins", "dbus", "http-listen", "metrics",
  "backend-url", "trust-anchor", "enrollment-token", "offline", "plain-http", NULL,
};
/* update and upload need a backend; without one only peering can run */
static const gchar *const kith_agent_default_plugins[] = { "peering", NULL };
static const gchar *const kith_agent_no_plugins[] = { NULL };
static const gchar *const kith_agent_default_plugin_dirs[] = { KITH_PLUGINDIR, NULL };

static void
kith_agent_finalize (GObject *object)
{
  KithAgent *self = KITH_AGENT (object);

  kith_agent_stop (self);
  g_clear_object (&self->skeleton);
  g_clear_pointer (&self->plugins, g_ptr_array_unref);
  g_hash_table_unref (self->services);
  g_object_unref (self->http);
  g_object_unref (self->dbus);
  g_object_unref (self->metrics);
  g_object_unref (self->config);
  g_free (self->node_id);
  g_free (self->state_dir);
  g_clear_object (&self->route);
  g_free (self->backend_url);
  g_free (self->trust_anchor);
  g_free (self->enrollment_token);
  G_OBJECT_CLASS (kith_agent_parent_class)->finalize (object);
}

static void
kith_agent_class_init (KithAgentClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_agent_finalize;
}

static void
kith_agent_init (KithAgent *self)
{
  self->http = kith_http_new ();
  self->dbus = kith_dbus_new ();
  self->metrics = kith_metrics_new ();
  self->services = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

KithAgent *
kith_agent_new (KithConfig *config)
{
  KithAgent *self = g_object_new (KITH_TYPE_AGENT, NULL);
  self->config = g_object_ref (config);
  return self;
}

/* backend-url must be an absolute http(s) URL; trust-anchor a readable file. */
static gboolean
kith_agent_load_vendor (KithAgent *self, GError **error)
{
  const gchar *scheme;
  gboolean plain_http = FALSE;
  g_autoptr (GUri) uri = NULL;

  g_autoptr (GError) error_local = NULL;

  self->backend_url = kith_config_get_string (self->config, "agent", "backend-url", NULL, &error_local);
  if (error_local == NULL)
    self->trust_anchor = kith_config_get_path (self->config, "agent", "trust-anchor", NULL, &error_local);
  if (error_local == NULL)
    self->enrollment_token =
        kith_config_get_string (self->config, "agent", "enrollment-token", NULL, &error_local);
  if (error_local != NULL) {
    g_propagate_error (error, g_steal_pointer (&error_local));
    return FALSE;
  }
  if (!kith_config_get_boolean (self->config, "agent", "plain-http", FALSE, &plain_http, error))
    return FALSE;
  if (self->backend_url != NULL) {
    uri = g_uri_parse (self->backend_url, G_URI_FLAGS_NONE, NULL);
    scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
    if (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) {
      kith_config_set_error (self->config, error, "agent", "backend-url",
                             "'%s' is not an http:// or https:// URL", self->backend_url);
      return FALSE;
    }
    /* the enrollment token, reports and receipts never travel in clear unless asked */
    if (g_strcmp0 (scheme, "http") == 0 && !plain_http) {
      kith_config_set_error (self->config, error, "agent", "backend-url",
                             "'%s' is plain HTTP: use https:// (or set plain-http=true)", self->backend_url);
      return FALSE;
    }
  }
  if (self->trust_anchor != NULL && !g_file_test (self->trust_anchor, G_FILE_TEST_IS_REGULAR)) {
    kith_config_set_error (self->config, error, "agent", "trust-anchor",
                           "'%s' does not exist or is not a file", self->trust_anchor);
    return FALSE;
  }
  g_clear_object (&self->route);
  self->route = kith_backend_route_new (self->backend_url);
  return kith_config_get_boolean (self->config, "agent", "offline", FALSE, &self->offline, error);
}

static gboolean
kith_agent_load_state (KithAgent *self, GError **error)
{
  self->state_dir = kith_config_get_path (self->config, "agent", "state-dir",
                                          KITH_LOCALSTATEDIR "/lib/kith", error);
  if (self->state_dir == NULL)
    return FALSE;
  if (g_mkdir_with_parents (self->state_dir, 0700) != 0) {
    kith_config_set_error (self->config, error, "agent", "state-dir",
                           "cannot create '%s': %s", self->state_dir, g_strerror (errno));
    return FALSE;
  }
  self->node_id = kith_node_id_load (self->state_dir, error);
  return self->node_id != NULL;
}

static void
kith_agent_handle_metrics (SoupServer *server, SoupServerMessage *msg, const char *path,
                           GHashTable *query, gpointer user_data)
{
  KithAgent *self = KITH_AGENT (user_data);
  KithHttpCounters http;
  gchar *body;

  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  if (g_strcmp0 (path, "/metrics") != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (!self->metrics_any &&
      (!G_IS_INET_SOCKET_ADDRESS (remote) ||
       !g_inet_address_get_is_loopback (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote))))) {
    soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, "metrics are for loopback clients only");
    return;
  }
  kith_metrics_set (self->metrics, "kith_agent_uptime_seconds", NULL,
                    (g_get_monotonic_time () - self->started_us) / (gdouble) G_USEC_PER_SEC);
  kith_http_get_counters (self->http, &http);
  kith_metrics_set (self->metrics, "kith_agent_http_connections", NULL, http.open);
  kith_metrics_set (self->metrics, "kith_agent_http_connections_total", NULL, (gdouble) http.accepted);
  kith_metrics_set (self->metrics, "kith_agent_http_refused_total", "reason=\"cap\"", (gdouble) http.refused);
  kith_metrics_set (self->metrics, "kith_agent_http_refused_total", "reason=\"header-timeout\"",
                    (gdouble) http.header_timeouts);
  kith_metrics_set (self->metrics, "kith_agent_http_refused_total", "reason=\"body\"", (gdouble) http.bodies_refused);
  body = kith_metrics_render (self->metrics);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4", SOUP_MEMORY_TAKE,
                                    body, strlen (body));
}

static gboolean
kith_agent_start_http (KithAgent *self, GError **error)
{
  /* loopback unless configured: the packaged kith-agent.conf opens the LAN */
  g_autofree gchar *listen = kith_config_get_string (self->config, "agent", "http-listen",
                                                     "127.0.0.1:6515", error);
  g_autoptr (GError) error_local = NULL;
  g_autofree gchar *metrics = NULL;

  if (listen == NULL)
    return FALSE;
  metrics = kith_config_get_string (self->config, "agent", "metrics", "loopback", error);
  if (metrics == NULL)
    return FALSE;
  if (g_strcmp0 (metrics, "loopback") != 0 && g_strcmp0 (metrics, "any") != 0) {
    kith_config_set_error (self->config, error, "agent", "metrics", "'%s' is neither loopback nor any", metrics);
    return FALSE;
  }
  self->metrics_any = g_strcmp0 (metrics, "any") == 0;
  if (!kith_http_listen (self->http, listen, &error_local)) {
    kith_config_set_error (self->config, error, "agent", "http-listen", "%s", error_local->message);
    return FALSE;
  }
  kith_metrics_register (self->metrics, "kith_agent_uptime_seconds", KITH_METRIC_GAUGE,
                         "Seconds since the agent started");
  kith_metrics_register (self->metrics, "kith_agent_plugins", KITH_METRIC_GAUGE,
                         "Plugins by state");
  kith_metrics_register (self->metrics, "kith_agent_http_connections", KITH_METRIC_GAUGE,
                         "HTTP connections open now");
  kith_metrics_register (self->metrics, "kith_agent_http_connections_total", KITH_METRIC_COUNTER,
                         "HTTP connections taken");
  kith_metrics_register (self->metrics, "kith_agent_http_refused_total", KITH_METRIC_COUNTER,
                         "HTTP connections closed over a cap or a slow request head, request bodies refused");
  kith_http_add_handler (self->http, "/metrics", kith_agent_handle_metrics, self, NULL);
  return TRUE;
}

static GVariant *
kith_agent_plugins_variant (KithAgent *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sss)"));
  for (guint i = 0; self->plugins != NULL && i < self->plugins->len; i++) {
    KithPlugin *plugin = g_ptr_array_index (self->plugins, i);
    g_variant_builder_add (&builder, "(sss)", kith_plugin_get_name (plugin),
                           kith_plugin_get_version (plugin),
                           kith_plugin_state_to_string (kith_plugin_get_state (plugin)));
  }
  return g_variant_builder_end (&builder);
}

static gboolean
kith_agent_handle_get_status (KithDbusAgent1 *skeleton, GDBusMethodInvocation *invocation,
                              KithAgent *self)
{
  kith_dbus_agent1_complete_get_status (skeleton, invocation, kith_agent_get_status (self));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
kith_agent_start_dbus (KithAgent *self, GError **error)
{
  g_autofree gchar *mode = kith_config_get_string (self->config, "agent", "dbus", "system", error);
  g_autoptr (GError) error_local = NULL;

  if (mode == NULL)
    return FALSE;
  self->skeleton = kith_dbus_agent1_skeleton_new ();
  kith_dbus_agent1_set_version (self->skeleton, KITH_VERSION);
  kith_dbus_agent1_set_node_id (self->skeleton, self->node_id);
  kith_dbus_agent1_set_plugins (self->skeleton, kith_agent_plugins_variant (self));
  g_signal_connect (self->skeleton, "handle-get-status",
                    G_CALLBACK (kith_agent_handle_get_status), self);
  kith_dbus_export (self->dbus, G_DBUS_INTERFACE_SKELETON (self->skeleton), KITH_AGENT_DBUS_PATH);
  if (!kith_dbus_start (self->dbus, mode, &error_local)) {
    kith_config_set_error (self->config, error, "agent", "dbus", "%s", error_local->message);
    return FALSE;
  }
  return TRUE;
}

/* The plugins named in [agent] plugins= and optional-plugins=, in that order; each once. */
static gchar **
kith_agent_plugin_names (KithAgent *self, gchar ***out_optional, GError **error)
{
  g_auto (GStrv) required = NULL;
  g_auto (GStrv) optional = NULL;
  g_autoptr (GStrvBuilder) all = g_strv_builder_new ();

  required = kith_config_get_strv (self->config, "agent", "plugins", kith_agent_default_plugins, error);
  if (required == NULL)
    return NULL;
  optional = kith_config_get_strv (self->config, "agent", "optional-plugins", kith_agent_no_plugins, error);
  if (optional == NULL)
    return NULL;
  g_strv_builder_addv (all, (const gchar **) required);
  g_strv_builder_addv (all, (const gchar **) optional);
  if (out_optional != NULL)
    *out_optional = g_steal_pointer (&optional);
  return g_strv_builder_end (all);
}

/* Every group is [agent] or the group of a plugin the config names (catches typos). */
static gboolean
kith_agent_check_groups (KithAgent *self, GError **error)
{
  g_auto (GStrv) groups = kith_config_get_groups (self->config);
  g_auto (GStrv) names = kith_agent_plugin_names (self, NULL, error);

  if (names == NULL)
    return FALSE;
  for (guint i = 0; groups[i] != NULL; i++) {
    if (g_strcmp0 (groups[i], "agent") == 0 || g_strv_contains ((const gchar *const *) names, groups[i]))
      continue;
    kith_config_set_error (self->config, error, groups[i], NULL,
                           "unknown group: neither [agent] nor a plugin named in [agent] plugins= "
                           "or optional-plugins=");
    return FALSE;
  }
  return TRUE;
}

/* Fails naming every required plugin that is not running; optional ones only warn (logged). */
static gboolean
kith_agent_check_required (KithAgent *self, const gchar *const *optional, GError **error)
{
  g_autoptr (GString) failures = g_string_new (NULL);

  for (guint i = 0; i < self->plugins->len; i++) {
    KithPlugin *plugin = g_ptr_array_index (self->plugins, i);
    if (kith_plugin_get_state (plugin) != KITH_PLUGIN_STATE_FAILED ||
        g_strv_contains (optional, kith_plugin_get_name (plugin)))
      continue;
    g_string_append_printf (failures, "%splugin '%s' cannot run: %s", failures->len > 0 ? "; " : "",
                            kith_plugin_get_name (plugin), kith_plugin_get_error (plugin));
  }
  if (failures->len == 0)
    return TRUE;
  kith_config_set_error (self->config, error, "agent", "plugins",
                         "%s (list plugins that may fail in optional-plugins=)", failures->str);
  return FALSE;
}

/* The loader started @plugin: its service is there for the plugins after it. */
static void
kith_agent_plugin_started (KithPlugin *plugin, gpointer user_data)
{
  kith_agent_add_service (user_data, kith_plugin_get_name (plugin), kith_plugin_get_service (plugin));
}

static gboolean
kith_agent_start_plugins (KithAgent *self, GError **error)
{
  g_auto (GStrv) names = NULL;
  g_auto (GStrv) optional = NULL;
  g_auto (GStrv) dirs = NULL;
  guint failed = 0;

  names = kith_agent_plugin_names (self, &optional, error);
  if (names == NULL)
    return FALSE;
  dirs = kith_config_get_paths (self->config, "agent", "plugin-dir",
                                kith_agent_default_plugin_dirs, error);
  if (dirs == NULL)
    return FALSE;
  self->plugins = kith_plugin_loader_load ((const gchar *const *) names, (const gchar *const *) dirs);
  kith_plugin_loader_start (self->plugins, self, kith_agent_plugin_started, self);
  for (guint i = 0; i < self->plugins->len; i++)
    failed += kith_plugin_get_state (g_ptr_array_index (self->plugins, i)) == KITH_PLUGIN_STATE_FAILED;
  kith_metrics_set (self->metrics, "kith_agent_plugins", "state=\"running\"", self->plugins->len - failed);
  kith_metrics_set (self->metrics, "kith_agent_plugins", "state=\"failed\"", failed);
  kith_dbus_agent1_set_plugins (self->skeleton, kith_agent_plugins_variant (self));
  return kith_agent_check_required (self, (const gchar *const *) optional, error);
}

gboolean
kith_agent_check_config (KithAgent *self, GError **error)
{
  g_auto (GStrv) names = NULL;
  g_auto (GStrv) optional = NULL;
  g_auto (GStrv) dirs = NULL;
  g_autofree gchar *state_dir = NULL;

  g_return_val_if_fail (KITH_IS_AGENT (self), FALSE);
  if (!kith_config_check_keys (self->config, "agent", kith_agent_keys, error) ||
      !kith_agent_check_groups (self, error) || !kith_agent_load_vendor (self, error))
    return FALSE;
  if ((state_dir = kith_config_get_path (self->config, "agent", "state-dir", "/", error)) == NULL ||
      (names = kith_agent_plugin_names (self, &optional, error)) == NULL ||
      (dirs = kith_config_get_paths (self->config, "agent", "plugin-dir", kith_agent_default_plugin_dirs,
                                     error)) == NULL)
    return FALSE;
  /* modules, SDK versions and dependencies, without starting anything */
  self->plugins = kith_plugin_loader_load ((const gchar *const *) names, (const gchar *const *) dirs);
  return kith_agent_check_required (self, (const gchar *const *) optional, error);
}

gboolean
kith_agent_start (KithAgent *self, GError **error)
{
  g_return_val_if_fail (KITH_IS_AGENT (self), FALSE);
  g_return_val_if_fail (!self->running, FALSE);

  self->started_us = g_get_monotonic_time ();
  if (!kith_config_check_keys (self->config, "agent", kith_agent_keys, error))
    return FALSE;
  if (!kith_agent_check_groups (self, error))
    return FALSE;
  if (!kith_agent_load_vendor (self, error))
    return FALSE;
  if (!kith_agent_load_state (self, error))
    return FALSE;
  if (!kith_agent_start_http (self, error))
    return FALSE;
  if (!kith_agent_start_dbus (self, error))
    return FALSE;
  self->running = TRUE;
  return kith_agent_start_plugins (self, error);
}

void
kith_agent_stop (KithAgent *self)
{
  g_return_if_fail (KITH_IS_AGENT (self));
  if (!self->running)
    return;
  self->running = FALSE;
  if (self->plugins != NULL)
    kith_plugin_loader_stop (self->plugins);
  g_hash_table_remove_all (self->services);
  kith_dbus_stop (self->dbus);
  kith_http_remove_handler (self->http, "/metrics");
  soup_server_disconnect (kith_http_get_server (self->http));
}

KithConfig *
kith_agent_get_config (KithAgent *self)
{
  return self->config;
}

KithHttp *
kith_agent_get_http (KithAgent *self)
{
  return self->http;
}

KithDbus *
kith_agent_get_dbus (KithAgent *self)
{
  return self->dbus;
}

KithMetrics *
kith_agent_get_metrics (KithAgent *self)
{
  return self->metrics;
}

const gchar *
kith_agent_get_node_id (KithAgent *self)
{
  return self->node_id;
}

const gchar *
kith_agent_get_state_dir (KithAgent *self)
{
  return self->state_dir;
}

const gchar *
kith_agent_get_backend_url (KithAgent *self)
{
  return self->backend_url;
}

const gchar *
kith_agent_get_trust_anchor (KithAgent *self)
{
  return self->trust_anchor;
}

const gchar *
kith_agent_get_enrollment_token (KithAgent *self)
{
  return self->enrollment_token;
}

gboolean
kith_agent_get_offline (KithAgent *self)
{
  return self->offline;
}

KithBackendRoute *
kith_agent_get_backend_route (KithAgent *self)
{
  return self->route;
}

gboolean
kith_agent_can_reach_backend (KithAgent *self)
{
  return !self->offline || (self->route != NULL && kith_backend_route_get_relay_url (self->route) != NULL);
}

GPtrArray *
kith_agent_get_plugins (KithAgent *self)
{
  return self->plugins;
}

void
kith_agent_add_service (KithAgent *self, const gchar *name, GObject *service)
{
  g_return_if_fail (KITH_IS_AGENT (self));
  g_return_if_fail (G_IS_OBJECT (service));
  g_hash_table_replace (self->services, g_strdup (name), g_object_ref (service));
}

GObject *
kith_agent_get_service (KithAgent *self, const gchar *name)
{
  g_return_val_if_fail (KITH_IS_AGENT (self), NULL);
  return g_hash_table_lookup (self->services, name);
}

static GVariant *
kith_agent_own_status (KithAgent *self)
{
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "version", "s", KITH_VERSION);
  g_variant_dict_insert (&dict, "node-id", "s", self->node_id);
  g_variant_dict_insert (&dict, "state-dir", "s", self->state_dir);
  g_variant_dict_insert (&dict, "http-url", "s", kith_http_get_base_url (self->http));
  g_variant_dict_insert (&dict, "dbus-address", "s", kith_dbus_get_address (self->dbus));
  g_variant_dict_insert (&dict, "uptime-seconds", "t",
                         (guint64) ((g_get_monotonic_time () - self->started_us) / G_USEC_PER_SEC));
  g_variant_dict_insert (&dict, "offline", "b", self->offline);
  if (self->backend_url != NULL)
    g_variant_dict_insert (&dict, "backend-url", "s", self->backend_url);
  if (self->route != NULL && kith_backend_route_get_relay_url (self->route) != NULL) {
    g_variant_dict_insert (&dict, "relay", "s", kith_backend_route_get_relay_url (self->route));
    g_variant_dict_insert (&dict, "relay-node", "s", kith_backend_route_get_relay_node (self->route));
  }
  return g_variant_dict_end (&dict);
}

static GVariant *
kith_agent_plugin_section (KithPlugin *plugin)
{
  GVariantDict dict;

  if (kith_plugin_get_state (plugin) == KITH_PLUGIN_STATE_RUNNING)
    return kith_plugin_get_status (plugin);
  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "state", "s",
                         kith_plugin_state_to_string (kith_plugin_get_state (plugin)));
  if (kith_plugin_get_error (plugin) != NULL)
    g_variant_dict_insert (&dict, "error", "s", kith_plugin_get_error (plugin));
  return g_variant_dict_end (&dict);
}

GVariant *
kith_agent_get_status (KithAgent *self)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&builder, "{sv}", "agent", kith_agent_own_status (self));
  for (guint i = 0; self->plugins != NULL && i < self->plugins->len; i++) {
    KithPlugin *plugin = g_ptr_array_index (self->plugins, i);
    g_variant_builder_add (&builder, "{sv}", kith_plugin_get_name (plugin),
                           kith_agent_plugin_section (plugin));
  }
  return g_variant_builder_end (&builder);
}
