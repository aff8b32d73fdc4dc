/* kith.h — libkith, the client library of the kith agent: include only this
 *
 *   g_autoptr(KithClient) client = kith_client_new ();
 *   g_autoptr(GVariant) status = NULL;
 *   g_autoptr(GError) error = NULL;
 *
 *   if (!kith_client_connect (client, NULL, &error) ||
 *       (status = kith_client_get_status (client, NULL, &error)) == NULL) {
 *     if (g_error_matches (error, KITH_CLIENT_ERROR, KITH_CLIENT_ERROR_AGENT_NOT_RUNNING))
 *       …the message says where it looked and how to start an agent…
 *   }
 *   g_print ("node %s\n", kith_client_get_node_id (client));
 *
 * Build with: pkg-config --cflags --libs kith
 */
#pragma once

#include "kith-client-error.h"
#include "kith-client-plugin.h"
#include "kith-client-transfer.h"
#include "kith-client.h"
