/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-peering-dbus.c — org.kith.Peering1 and its org.kith.Transfer1 objects
 *
 * Fetch takes an fd the caller opened: the agent writes only there, never to a
 * path a caller names. The bytes are copied in after they verified, then the
 * transfer says "done".
 */
#include "kith-peering-dbus.h"

#include "kith-dbus-generated.h"
#include "kith-fd-copy.h"
#include "kith-hex.h"
#include "kith-peering-error.h"

#include <string.h>

#ifdef G_OS_UNIX
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <gio/gunixoutputstream.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#define KITH_PEERING_DBUS_PATH KITH_AGENT_DBUS_PATH "/Peering"
#define KITH_PEERING_DBUS_LINGER_S 60

struct _KithPeeringDbus {
  KithPeering *peering;
  KithDbus *dbus;
  KithDbusPeering1 *skeleton;
  GHashTable *exports; /* KithDbusTransfer1* → KithDbusTransferExport* */
  guint next_transfer;
};

typedef struct {
  KithPeeringDbus *owner;
  KithTransfer *transfer;
  KithDbusTransfer1 *skeleton;
  GOutputStream *destination;
  GCancellable *cancellable;
  guint linger_id;
} KithDbusTransferExport;

static void
kith_peering_dbus_export_free (KithDbusTransferExport *export)
{
  g_cancellable_cancel (export->cancellable);
  g_object_unref (export->cancellable);
  if (export->linger_id != 0)
    g_source_remove (export->linger_id);
  g_signal_handlers_disconnect_by_data (export->transfer, export);
  g_signal_handlers_disconnect_by_data (export->skeleton, export);
  kith_dbus_unexport (export->owner->dbus, G_DBUS_INTERFACE_SKELETON (export->skeleton));
  g_object_unref (export->skeleton);
  g_object_unref (export->transfer);
  g_clear_object (&export->destination);
  g_free (export);
}

static void
kith_peering_dbus_mirror (KithDbusTransferExport *export, const gchar *state, const gchar *error)
{
  KithTransfer *transfer = export->transfer;

  g_object_freeze_notify (G_OBJECT (export->skeleton));
  kith_dbus_transfer1_set_source (export->skeleton,
                                  kith_transfer_get_source (transfer) != NULL
                                      ? kith_transfer_get_source (transfer) : "");
  kith_dbus_transfer1_set_bytes_done (export->skeleton, kith_transfer_get_bytes_done (transfer));
  kith_dbus_transfer1_set_bytes_total (export->skeleton, kith_transfer_get_bytes_total (transfer));
  if (error != NULL)
    kith_dbus_transfer1_set_error (export->skeleton, error);
  kith_dbus_transfer1_set_state (export->skeleton, state);
  g_object_thaw_notify (G_OBJECT (export->skeleton));
}

static gboolean
kith_peering_dbus_linger_done (gpointer user_data)
{
  KithDbusTransferExport *export = user_data;
  export->linger_id = 0;
  g_hash_table_remove (export->owner->exports, export->skeleton);
  return G_SOURCE_REMOVE;
}

/* Clients know the agent's org.kith.Error.* names: peering's codes are told in those. */
static KithAgentError
kith_peering_dbus_agent_code (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_CANCELLED))
    return KITH_AGENT_ERROR_CANCELLED;
  if (g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_NOT_FOUND) ||
      g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_NO_SOURCE) ||
      g_error_matches (error, KITH_PEERING_ERROR, KITH_PEERING_ERROR_OFFLINE))
    return KITH_AGENT_ERROR_NOT_FOUND;
  return KITH_AGENT_ERROR_FAILED;
}

static void
kith_peering_dbus_finish (KithDbusTransferExport *export, const GError *error)
{
  g_autofree gchar *message = NULL;

  if (error != NULL) {
    g_autoptr (GError) agent_error = g_error_new_literal (KITH_AGENT_ERROR,
                                                         kith_peering_dbus_agent_code (error),
                                                         error->message);
    g_autofree gchar *name = g_dbus_error_encode_gerror (agent_error);
    message = g_strdup_printf ("%s: %s", name, error->message);
  }
  kith_peering_dbus_mirror (export, error == NULL ? "done" : "failed", message);
  g_clear_object (&export->destination);
  export->linger_id = g_timeout_add_seconds (KITH_PEERING_DBUS_LINGER_S,
                                             kith_peering_dbus_linger_done, export);
}

static void
kith_peering_dbus_copied (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  KithDbusTransferExport *export = user_data;

  if (kith_fd_copy_finish (result, &error) < 0 &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the export is gone */
  if (error != NULL)
    g_prefix_error (&error, "cannot write to the caller's file: ");
  kith_peering_dbus_finish (export, error);
}

static void
kith_peering_dbus_transfer_finished (KithTransfer *transfer, KithDbusTransferExport *export)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileInputStream) input = NULL;
  g_autoptr (GError) error = NULL;

  if (kith_transfer_get_state (transfer) == KITH_TRANSFER_STATE_FAILED) {
    kith_peering_dbus_finish (export, kith_transfer_get_error (transfer));
    return;
  }
  file = g_file_new_for_path (kith_transfer_get_path (transfer));
  input = g_file_read (file, NULL, &error);
  if (input == NULL) {
    kith_peering_dbus_finish (export, error);
    return;
  }
  kith_fd_copy_async (G_INPUT_STREAM (input), export->destination, export->cancellable, kith_peering_dbus_copied,
                      export);
}

static void
kith_peering_dbus_transfer_notify (KithTransfer *transfer, GParamSpec *pspec,
                                   KithDbusTransferExport *export)
{
  KithTransferState state = kith_transfer_get_state (transfer);

  if (state == KITH_TRANSFER_STATE_DONE || state == KITH_TRANSFER_STATE_FAILED)
    return; /* "done" is published once the caller's file is written */
  kith_peering_dbus_mirror (export, kith_transfer_state_to_string (state), NULL);
}

static gboolean
kith_peering_dbus_handle_cancel (KithDbusTransfer1 *skeleton, GDBusMethodInvocation *invocation,
                                 KithDbusTransferExport *export)
{
  kith_transfer_cancel (export->transfer);
  kith_dbus_transfer1_complete_cancel (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* Options "piece-size" (t) and "pieces" (s, 64 hex digits per piece): a piece list the
 * caller trusts, for a fetch that also gives sha256 and size (docs/protocol.md "Pieces"). */
static gboolean
kith_peering_dbus_parse_pieces (GVariant *options, const gchar *sha256, guint64 size, KithPieceList **pieces,
                                GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree gchar *hashes = NULL;
  guint64 piece_size = 0;

  if (!g_variant_lookup (options, "pieces", "s", &hashes))
    return TRUE;
  if (sha256 == NULL || size == 0 || !g_variant_lookup (options, "piece-size", "t", &piece_size)) {
    g_set_error_literal (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS,
                         "option pieces needs the options piece-size, sha256 and size");
    return FALSE;
  }
  *pieces = kith_piece_list_new (size, piece_size, hashes, &local);
  if (*pieces == NULL) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS, "option pieces: %s", local->message);
    return FALSE;
  }
  return TRUE;
}

static gboolean
kith_peering_dbus_parse_options (GVariant *options, gchar **sha256, guint64 *size, KithPieceList **pieces,
                                 KithFetchFlags *flags, GError **error)
{
  gboolean cached_only = FALSE, no_origin = FALSE;

  if (g_variant_lookup (options, "sha256", "s", sha256)) {
    gsize len = strlen (*sha256);
    for (gsize i = 0; i < len; i++)
      (*sha256)[i] = g_ascii_tolower ((*sha256)[i]);
    if (!kith_hex_is_valid (*sha256, 64, 64)) {
      g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS,
                   "option sha256 must be 64 hex digits, not '%s'", *sha256);
      return FALSE;
    }
  }
  g_variant_lookup (options, "size", "t", size);
  if (!kith_peering_dbus_parse_pieces (options, *sha256, *size, pieces, error))
    return FALSE;
  g_variant_lookup (options, "cached-only", "b", &cached_only);
  g_variant_lookup (options, "no-origin", "b", &no_origin);
  *flags = (cached_only ? KITH_FETCH_FLAG_CACHED_ONLY : 0) | (no_origin ? KITH_FETCH_FLAG_NO_ORIGIN : 0);
  return TRUE;
}

#ifdef G_OS_UNIX
/* A regular file is written from offset 0 whatever its position (and emptied first); a pipe
 * or socket is made non-blocking, so a reader that never reads cannot stall the agent. */
static gboolean
kith_peering_dbus_prepare_fd (gint fd, GError **error)
{
  struct stat st;
  gint flags = fcntl (fd, F_GETFL);

  if (fstat (fd, &st) != 0 || flags < 0) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS,
                 "cannot use the file descriptor passed: %s", g_strerror (errno));
    return FALSE;
  }
  if (S_ISREG (st.st_mode)) {
    if (fcntl (fd, F_SETFL, flags & ~O_APPEND) != 0 || ftruncate (fd, 0) != 0 ||
        lseek (fd, 0, SEEK_SET) != 0) {
      g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS,
                   "cannot rewind the file passed: %s", g_strerror (errno));
      return FALSE;
    }
  } else if (fcntl (fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS,
                 "cannot make the file descriptor passed non-blocking: %s", g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}
#endif

static GOutputStream *
kith_peering_dbus_take_fd (GDBusMethodInvocation *invocation, GVariant *handle, GError **error)
{
#ifdef G_OS_UNIX
  GUnixFDList *fds = g_dbus_message_get_unix_fd_list (g_dbus_method_invocation_get_message (invocation));
  gint fd;

  if (fds == NULL || g_variant_get_handle (handle) >= g_unix_fd_list_get_length (fds)) {
    g_set_error_literal (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS,
                         "no file descriptor was passed");
    return NULL;
  }
  fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), error);
  if (fd < 0)
    return NULL;
  if (!kith_peering_dbus_prepare_fd (fd, error)) {
    close (fd);
    return NULL;
  }
  return g_unix_output_stream_new (fd, TRUE);
#else
  g_set_error_literal (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_FAILED,
                       "passing file descriptors needs a Unix system");
  return NULL;
#endif
}

static gboolean
kith_peering_dbus_check_url (const gchar *url, GError **error)
{
  g_autoptr (GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const gchar *scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;

  if (g_strcmp0 (scheme, "http") != 0 && g_strcmp0 (scheme, "https") != 0) {
    g_set_error (error, KITH_AGENT_ERROR, KITH_AGENT_ERROR_INVALID_ARGS,
                 "'%s' is not an http:// or https:// URL", url);
    return FALSE;
  }
  return TRUE;
}

static gboolean
kith_peering_dbus_handle_fetch (KithDbusPeering1 *skeleton, GDBusMethodInvocation *invocation,
                                const gchar *url, GVariant *handle, GVariant *options,
                                KithPeeringDbus *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sha256 = NULL;
  g_autofree gchar *path = NULL;
  g_autoptr (KithPieceList) pieces = NULL;
  g_autoptr (GOutputStream) destination = NULL;
  KithFetchFlags flags = KITH_FETCH_FLAG_NONE;
  KithDbusTransferExport *export;
  guint64 size = 0;

  if (!kith_peering_dbus_check_url (url, &error) ||
      !kith_peering_dbus_parse_options (options, &sha256, &size, &pieces, &flags, &error) ||
      (destination = kith_peering_dbus_take_fd (invocation, handle, &error)) == NULL) {
    g_dbus_method_invocation_return_gerror (invocation, error);
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  }
  export = g_new0 (KithDbusTransferExport, 1);
  export->owner = self;
  export->destination = g_steal_pointer (&destination);
  export->cancellable = g_cancellable_new ();
  export->skeleton = kith_dbus_transfer1_skeleton_new ();
  kith_dbus_transfer1_set_url (export->skeleton, url);
  kith_dbus_transfer1_set_state (export->skeleton, "searching");
  export->transfer = kith_fetcher_fetch_pieces (KITH_FETCHER (self->peering), url, sha256, size, pieces, flags);
  g_signal_connect (export->transfer, "notify", G_CALLBACK (kith_peering_dbus_transfer_notify), export);
  g_signal_connect (export->transfer, "finished", G_CALLBACK (kith_peering_dbus_transfer_finished), export);
  g_signal_connect (export->skeleton, "handle-cancel", G_CALLBACK (kith_peering_dbus_handle_cancel), export);
  path = g_strdup_printf ("%s/Transfer/%u", KITH_AGENT_DBUS_PATH, ++self->next_transfer);
  g_hash_table_insert (self->exports, export->skeleton, export);
  kith_dbus_export (self->dbus, G_DBUS_INTERFACE_SKELETON (export->skeleton), path);
  kith_dbus_peering1_complete_fetch (skeleton, invocation, path);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
kith_peering_dbus_peer_download (KithPeering *peering, const gchar *href, const gchar *node,
                                 guint64 done, guint64 total, KithPeeringDbus *self)
{
  kith_dbus_peering1_emit_peer_download (self->skeleton, href, node, done, total);
}

KithPeeringDbus *
kith_peering_dbus_new (KithPeering *peering, KithDbus *dbus)
{
  KithPeeringDbus *self = g_new0 (KithPeeringDbus, 1);

  self->peering = g_object_ref (peering);
  self->dbus = g_object_ref (dbus);
  self->exports = g_hash_table_new_full (NULL, NULL, NULL,
                                         (GDestroyNotify) kith_peering_dbus_export_free);
  self->skeleton = kith_dbus_peering1_skeleton_new ();
  g_signal_connect (self->skeleton, "handle-fetch", G_CALLBACK (kith_peering_dbus_handle_fetch), self);
  g_signal_connect (peering, "peer-download", G_CALLBACK (kith_peering_dbus_peer_download), self);
  kith_dbus_export (dbus, G_DBUS_INTERFACE_SKELETON (self->skeleton), KITH_PEERING_DBUS_PATH);
  return self;
}

void
kith_peering_dbus_free (KithPeeringDbus *self)
{
  g_signal_handlers_disconnect_by_data (self->peering, self);
  g_hash_table_unref (self->exports);
  kith_dbus_unexport (self->dbus, G_DBUS_INTERFACE_SKELETON (self->skeleton));
  g_object_unref (self->skeleton);
  g_object_unref (self->dbus);
  g_object_unref (self->peering);
  g_free (self);
}
