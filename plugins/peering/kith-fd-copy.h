/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-fd-copy.h — a finished file copied into the caller's descriptor
 *
 * GIO's splice moves 8 KiB at a time, and with a non-blocking destination each of those
 * is a read in the thread pool and a wakeup of the main loop: for a 50 MiB file, ~6400 of
 * each. Here one worker thread hands the kernel the whole file with sendfile(2) (the file
 * to a regular file, pipe or socket), or copies 1 MiB at a time where it cannot.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Copies what is left of @source (a file read from its current position) to @destination,
 * then closes @source. Both must be descriptor-based (else GIO's splice does it); a
 * non-blocking @destination is waited for. Cancelling @cancellable stops it within 250 ms. */
void kith_fd_copy_async (GInputStream *source, GOutputStream *destination, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data);
/* The bytes copied, or -1 with @error. */
gssize kith_fd_copy_finish (GAsyncResult *result, GError **error);

G_END_DECLS
