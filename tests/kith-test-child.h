/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-child.h — a suite's own binary run again as a child process (a fake peer, a
 * fake relay, a lying leader): the child says "ready" on stdout and lives until its stdin
 * closes; the suite starts it and waits for that line. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* In the child: prints @ready_line and a newline on stdout, then runs @loop (of the default
 * context) until stdin closes or 120 s have passed. */
void kith_test_child_run (GMainLoop *loop, const gchar *ready_line);
/* In the suite: runs this very binary with the NULL-terminated arguments (stdin and stdout
 * piped) and waits for its "ready" line; the stdout pipe stays open for more lines.
 * Caller unrefs. */
GSubprocess *kith_test_child_spawn (const gchar *first_arg, ...) G_GNUC_NULL_TERMINATED;
/* In the suite: closes @child's stdin, which tells it to end, gives each line it prints
 * until then to @on_line (NULL: its stdout is not read) and waits for it to exit (the test
 * fails if that wait fails). Takes the caller's reference to @child. */
void kith_test_child_stop (GSubprocess *child, void (*on_line) (const gchar *line, gpointer user_data),
                           gpointer user_data);

G_END_DECLS
