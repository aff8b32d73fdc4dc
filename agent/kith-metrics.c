/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-metrics.c — counters and gauges, rendered in the Prometheus text format */
#include "kith-metrics.h"

typedef struct {
  gchar *name;
  KithMetricKind kind;
  gchar *help;
  GHashTable *series; /* labels ("" for none) → gdouble* */
} KithMetricFamily;

struct _KithMetrics {
  GObject parent_instance;
  GHashTable *families; /* name → KithMetricFamily */
  GPtrArray *order;     /* KithMetricFamily*, registration order, for stable output */
};

G_DEFINE_TYPE (KithMetrics, kith_metrics, G_TYPE_OBJECT)

static void
kith_metrics_family_free (KithMetricFamily *family)
{
  g_free (family->name);
  g_free (family->help);
  g_hash_table_unref (family->series);
  g_free (family);
}

static void
kith_metrics_finalize (GObject *object)
{
  KithMetrics *self = KITH_METRICS (object);
  g_ptr_array_unref (self->order);
  g_hash_table_unref (self->families);
  G_OBJECT_CLASS (kith_metrics_parent_class)->finalize (object);
}

static void
kith_metrics_class_init (KithMetricsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kith_metrics_finalize;
}

static void
kith_metrics_init (KithMetrics *self)
{
  self->families = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify) kith_metrics_family_free);
  self->order = g_ptr_array_new ();
}

KithMetrics *
kith_metrics_new (void)
{
  return g_object_new (KITH_TYPE_METRICS, NULL);
}

void
kith_metrics_register (KithMetrics *self, const gchar *name, KithMetricKind kind,
                       const gchar *help)
{
  KithMetricFamily *family;

  g_return_if_fail (KITH_IS_METRICS (self));
  if (g_hash_table_contains (self->families, name))
    return;
  family = g_new0 (KithMetricFamily, 1);
  family->name = g_strdup (name);
  family->kind = kind;
  family->help = g_strdup (help);
  family->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (self->families, family->name, family);
  g_ptr_array_add (self->order, family);
}

/* The value slot of a series, created at 0; families used before being
 * registered become untyped so that a forgotten register loses nothing. */
static gdouble *
kith_metrics_slot (KithMetrics *self, const gchar *name, const gchar *labels)
{
  KithMetricFamily *family = g_hash_table_lookup (self->families, name);
  gdouble *slot;

  if (family == NULL) {
    kith_metrics_register (self, name, KITH_METRIC_GAUGE, NULL);
    family = g_hash_table_lookup (self->families, name);
  }
  slot = g_hash_table_lookup (family->series, labels != NULL ? labels : "");
  if (slot == NULL) {
    slot = g_new0 (gdouble, 1);
    g_hash_table_insert (family->series, g_strdup (labels != NULL ? labels : ""), slot);
  }
  return slot;
}

void
kith_metrics_add (KithMetrics *self, const gchar *name, const gchar *labels, gdouble delta)
{
  g_return_if_fail (KITH_IS_METRICS (self));
  *kith_metrics_slot (self, name, labels) += delta;
}

void
kith_metrics_set (KithMetrics *self, const gchar *name, const gchar *labels, gdouble value)
{
  g_return_if_fail (KITH_IS_METRICS (self));
  *kith_metrics_slot (self, name, labels) = value;
}

gdouble
kith_metrics_get (KithMetrics *self, const gchar *name, const gchar *labels)
{
  KithMetricFamily *family = g_hash_table_lookup (self->families, name);
  gdouble *slot;

  if (family == NULL)
    return 0;
  slot = g_hash_table_lookup (family->series, labels != NULL ? labels : "");
  return slot != NULL ? *slot : 0;
}

GVariant *
kith_metrics_to_variant (KithMetrics *self, const gchar *name)
{
  KithMetricFamily *family = g_hash_table_lookup (self->families, name);
  GVariantBuilder builder;
  GHashTableIter iter;
  gpointer key, value;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sd}"));
  if (family != NULL) {
    g_hash_table_iter_init (&iter, family->series);
    while (g_hash_table_iter_next (&iter, &key, &value))
      g_variant_builder_add (&builder, "{sd}", (const gchar *) key, *(gdouble *) value);
  }
  return g_variant_builder_end (&builder);
}

static void
kith_metrics_render_family (KithMetricFamily *family, GString *out)
{
  g_autoptr (GList) labels = g_hash_table_get_keys (family->series);

  if (family->help != NULL)
    g_string_append_printf (out, "# HELP %s %s\n", family->name, family->help);
  g_string_append_printf (out, "# TYPE %s %s\n", family->name,
                          family->kind == KITH_METRIC_COUNTER ? "counter" : "gauge");
  labels = g_list_sort (labels, (GCompareFunc) g_strcmp0);
  for (GList *l = labels; l != NULL; l = l->next) {
    const gchar *label = l->data;
    gdouble value = *(gdouble *) g_hash_table_lookup (family->series, label);
    gchar number[G_ASCII_DTOSTR_BUF_SIZE];

    g_ascii_formatd (number, sizeof number, "%.17g", value);
    if (label[0] != '\0')
      g_string_append_printf (out, "%s{%s} %s\n", family->name, label, number);
    else
      g_string_append_printf (out, "%s %s\n", family->name, number);
  }
}

gchar *
kith_metrics_render (KithMetrics *self)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < self->order->len; i++)
    kith_metrics_render_family (g_ptr_array_index (self->order, i), out);
  return g_string_free (out, FALSE);
}
