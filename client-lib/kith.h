/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith.h — libkith, the client library of the kith agent: include only this
 *
 *   g_autoptr (KithClient) client = kith_client_new ();
 *   g_autoptr (GVariant) status = NULL;
 *   g_autoptr (GError) error = NULL;
 *
 *   if (!kith_client_connect (client, NULL, &error) ||
 *       (status = kith_client_get_status (client, NULL, &error)) == NULL) {
 *     if (g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING))
 *       …the message says where it looked and how to start an agent…
 *   }
 *   g_print ("node %s\n", kith_client_get_node_id (client));
 *
 * Fetching a URL (the LAN first, the origin once), blocking, with progress:
 *
 *   static void
 *   on_progress (KithClientTransfer *transfer, gpointer user_data)
 *   {
 *     g_print ("%s %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n",
 *              kith_client_transfer_state_to_string (kith_client_transfer_get_state (transfer)),
 *              kith_client_transfer_get_bytes_done (transfer),
 *              kith_client_transfer_get_bytes_total (transfer));
 *   }
 *
 *   g_autoptr (KithClientTransfer) transfer =
 *     kith_client_fetch (client, "https://example.org/f.cab", "/var/tmp/f.cab", NULL,
 *                        KITH_CLIENT_FETCH_FLAG_NONE, on_progress, NULL, NULL, &error);
 *   if (transfer != NULL)
 *     g_print ("from %s\n", kith_client_transfer_get_source (transfer)); // "origin" or a node id
 *
 * Build with: pkg-config --cflags --libs kith-1
 */
#pragma once

#include "kith-client-error.h"
#include "kith-client-plugin.h"
#include "kith-client-transfer.h"
#include "kith-client-update.h"
#include "kith-client-upload.h"
#include "kith-client.h"
