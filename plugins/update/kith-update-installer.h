/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-installer.h — the signatures directory: whole sets switched in atomically
 *
 * DIR/current            symlink to .sets/<catalog-version>: what applications read
 * DIR/.sets/<v>/NAME     the files of set <v>, named after the catalog's file names
 *                        (a set of the installed version built again, to repair a damaged
 *                        file, is .sets/<v>-<n>)
 * DIR/.sets/<v>/.manifest.json   the catalog the set was built from (kith-catalog.h format)
 * DIR/.sets/<v>.partial/ a set being written; removed by recovery
 * DIR/current.tmp        the next symlink before it is renamed over current
 *
 * A kill at any moment leaves current pointing at a complete set: a set directory only
 * gets its final name once every file and the manifest are written and synced, and
 * current is replaced by rename(2).
 */
#pragma once

#include "kith-catalog.h"

#include <glib.h>

G_BEGIN_DECLS

/* Makes DIR if needed, removes partial sets, a stale current.tmp and every set current
 * does not point to. */
gboolean kith_update_installer_recover (const gchar *dir, GError **error);
/* The manifest of the installed set, or an empty catalog (version 0) when there is none;
 * caller frees. */
KithCatalog *kith_update_installer_get_installed (const gchar *dir, GError **error);
/* The names of @installed's files (the manifest of the installed set) whose bytes in current/
 * no longer match it: damaged in place, truncated, replaced or missing. Reads every file:
 * call it from a worker thread. Caller unrefs. */
GPtrArray *kith_update_installer_find_damaged (const gchar *dir, KithCatalog *installed);
/* Builds set @catalog->version from @sources (file name → path of a verified file; files
 * missing from it are taken from the installed set), switches current to it and removes
 * the superseded set. Every file must have the catalog's size. */
gboolean kith_update_installer_install (const gchar *dir, KithCatalog *catalog,
                                        GHashTable *sources, GError **error);

G_END_DECLS
