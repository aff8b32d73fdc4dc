/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-http-answer.h — the short answers every HTTP handler of the tree writes (the agent's
 * services, the peering handlers, the backend): a status with no body, a text, one line. */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* @status and an empty body. */
void kith_http_answer_empty (SoupServerMessage *msg, guint status);
/* @status and @text (copied) as the body, of @content_type. */
void kith_http_answer_text (SoupServerMessage *msg, guint status, const gchar *content_type,
                            const gchar *text);
/* @status and @line with a newline as text/plain: a reason a person (or a script) can read. */
void kith_http_answer_line (SoupServerMessage *msg, guint status, const gchar *line);

G_END_DECLS
