/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-alias-entry.c — copying and freeing alias entries */
#include "kith-alias-entry.h"

KithAliasEntry *
kith_alias_entry_copy (const KithAliasEntry *entry)
{
  KithAliasEntry *copy = g_new0 (KithAliasEntry, 1);
  copy->href = g_strdup (entry->href);
  copy->sha256 = g_strdup (entry->sha256);
  copy->size = entry->size;
  copy->created = entry->created;
  copy->last_access = entry->last_access;
  copy->path = g_strdup (entry->path);
  copy->trust = entry->trust;
  return copy;
}

static const gchar *const kith_alias_trust_names[] = { "lan", "peer", "origin", "hash" };

const gchar *
kith_alias_trust_to_string (KithAliasTrust trust)
{
  return (guint) trust < G_N_ELEMENTS (kith_alias_trust_names) ? kith_alias_trust_names[trust] : "lan";
}

KithAliasTrust
kith_alias_trust_from_string (const gchar *name)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (kith_alias_trust_names); i++) {
    if (g_strcmp0 (name, kith_alias_trust_names[i]) == 0)
      return (KithAliasTrust) i;
  }
  return KITH_ALIAS_TRUST_LAN;
}

void
kith_alias_entry_free (KithAliasEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->href);
  g_free (entry->sha256);
  g_free (entry->path);
  g_free (entry);
}
