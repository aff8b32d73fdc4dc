/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-node-id.h — the node's persistent random identity (private to the agent) */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads STATE_DIR/node-id, creating it with 128 random bits on first start;
 * returns 32 lowercase hex digits, caller frees. */
gchar *kith_node_id_load (const gchar *state_dir, GError **error);
/* TRUE if @node_id is 32 lowercase hex digits. */
gboolean kith_node_id_is_valid (const gchar *node_id);

G_END_DECLS
