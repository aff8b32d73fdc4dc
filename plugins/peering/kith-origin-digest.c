/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-origin-digest.c — Repr-Digest / Digest sha-256 from an origin's HEAD */
#include "kith-origin-digest.h"

#include "kith-deadline.h"

#include <string.h>

#define KITH_ORIGIN_DIGEST_SHA256_LEN 32

/* Hex of a base64 sha-256 value, or NULL when it is not one. */
static gchar *
kith_origin_digest_hex (const gchar *b64, gsize len)
{
  g_autofree gchar *copy = g_strndup (b64, len);
  g_autofree guchar *raw = NULL;
  gsize raw_len = 0;
  GString *hex;

  g_strstrip (copy);
  if (copy[0] == '\0' || strspn (copy, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
                             strlen (copy) || strlen (copy) != 44)
    return NULL;
  raw = g_base64_decode (copy, &raw_len);
  if (raw_len != KITH_ORIGIN_DIGEST_SHA256_LEN)
    return NULL;
  hex = g_string_sized_new (2 * raw_len);
  for (gsize i = 0; i < raw_len; i++)
    g_string_append_printf (hex, "%02x", raw[i]);
  return g_string_free (hex, FALSE);
}

/* The sha-256 member of a comma-separated list "alg=value, …"; @colons: RFC 9530 byte
 * sequences (":b64:"), else RFC 3230 bare base64. */
static gchar *
kith_origin_digest_parse (const gchar *value, gboolean colons)
{
  g_auto (GStrv) members = NULL;

  if (value == NULL || strlen (value) > 4096)
    return NULL;
  members = g_strsplit (value, ",", 16);
  for (guint i = 0; members[i] != NULL; i++) {
    gchar *member = g_strstrip (members[i]);
    gchar *eq = strchr (member, '=');
    gchar *v;
    gsize len;

    if (eq == NULL)
      continue;
    *eq = '\0';
    g_strstrip (member);
    if (g_ascii_strcasecmp (member, "sha-256") != 0)
      continue;
    v = g_strstrip (eq + 1);
    len = strlen (v);
    if (colons) {
      gchar *semi = strchr (v, ';'); /* parameters of the structured field */
      if (semi != NULL)
        len = semi - v;
      while (len > 0 && g_ascii_isspace (v[len - 1]))
        len--;
      if (len < 2 || v[0] != ':' || v[len - 1] != ':')
        return NULL;
      return kith_origin_digest_hex (v + 1, len - 2);
    }
    return kith_origin_digest_hex (v, len);
  }
  return NULL;
}

gchar *
kith_origin_digest_from_headers (SoupMessageHeaders *headers)
{
  gchar *hex = kith_origin_digest_parse (soup_message_headers_get_list (headers, "Repr-Digest"), TRUE);

  if (hex == NULL)
    hex = kith_origin_digest_parse (soup_message_headers_get_list (headers, "Digest"), FALSE);
  return hex;
}

static void
kith_origin_digest_head_sent (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), res);
  gchar *hex;

  if (body == NULL) {
    GCancellable *caller = g_task_get_cancellable (task);
    /* our own timeout cancelled it, not the caller */
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
        (caller == NULL || !g_cancellable_is_cancelled (caller))) {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "the origin did not answer HEAD in time");
      return;
    }
    g_task_return_error (task, g_steal_pointer (&error));
    return;
  }
  if (!SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg))) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "HEAD answered HTTP %u",
                             soup_message_get_status (msg));
    return;
  }
  hex = kith_origin_digest_from_headers (soup_message_get_response_headers (msg));
  if (hex == NULL) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "the origin states no sha-256");
    return;
  }
  g_task_return_pointer (task, hex, g_free);
}

void
kith_origin_digest_head_async (SoupSession *session, const gchar *href, guint timeout_ms,
                               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_HEAD, href);
  /* ours: cancelled by the caller's or by the timeout */
  KithDeadline *deadline = kith_deadline_new (cancellable, timeout_ms);
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, kith_origin_digest_head_async);
  g_task_set_task_data (task, deadline, (GDestroyNotify) kith_deadline_free);
  if (msg == NULL) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' is not a URL", href);
    g_object_unref (task);
    return;
  }
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Want-Repr-Digest", "sha-256=10");
  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, kith_deadline_get_cancellable (deadline),
                                    kith_origin_digest_head_sent, task);
}

gchar *
kith_origin_digest_head_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
