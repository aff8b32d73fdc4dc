/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-http-answer.c — a status and a short body, set on a server message */
#include "kith-http-answer.h"

#include <string.h>

void
kith_http_answer_empty (SoupServerMessage *msg, guint status)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_message_body_complete (soup_server_message_get_response_body (msg));
}

void
kith_http_answer_text (SoupServerMessage *msg, guint status, const gchar *content_type, const gchar *text)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, text, strlen (text));
}

void
kith_http_answer_line (SoupServerMessage *msg, guint status, const gchar *line)
{
  g_autofree gchar *text = g_strconcat (line, "\n", NULL);

  kith_http_answer_text (msg, status, "text/plain", text);
}
