/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-node-id.c — the node's persistent random identity */
#include "kith-node-id.h"

#include "kith-agent-error.h"
#include "kith-hex.h"

#include <gnutls/crypto.h>
#include <string.h>

#define KITH_NODE_ID_BYTES 16

gboolean
kith_node_id_is_valid (const gchar *node_id)
{
  return kith_hex_is_valid (node_id, KITH_NODE_ID_BYTES * 2, KITH_NODE_ID_BYTES * 2);
}

static gchar *
kith_node_id_generate (GError **error)
{
  guint8 raw[KITH_NODE_ID_BYTES];
  GString *hex = g_string_sized_new (KITH_NODE_ID_BYTES * 2);

  if (gnutls_rnd (GNUTLS_RND_RANDOM, raw, sizeof raw) < 0) {
    g_set_error_literal (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                         "the system random generator failed");
    g_string_free (hex, TRUE);
    return NULL;
  }
  for (guint i = 0; i < sizeof raw; i++)
    g_string_append_printf (hex, "%02x", raw[i]);
  return g_string_free (hex, FALSE);
}

gchar *
kith_node_id_load (const gchar *state_dir, GError **error)
{
  g_autofree gchar *path = g_build_filename (state_dir, "node-id", NULL);
  g_autofree gchar *contents = NULL;
  g_autofree gchar *node_id = NULL;
  g_autofree gchar *line = NULL;

  if (g_file_get_contents (path, &contents, NULL, NULL)) {
    g_strstrip (contents);
    if (kith_node_id_is_valid (contents))
      return g_steal_pointer (&contents);
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                 "%s does not hold a node id (32 hex digits); remove it to make a new one", path);
    return NULL;
  }
  node_id = kith_node_id_generate (error);
  if (node_id == NULL)
    return NULL;
  line = g_strdup_printf ("%s\n", node_id);
  if (!g_file_set_contents_full (path, line, -1, G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, error)) {
    g_prefix_error (error, "cannot save the node id: ");
    return NULL;
  }
  g_message ("new node id %s", node_id);
  return g_steal_pointer (&node_id);
}
