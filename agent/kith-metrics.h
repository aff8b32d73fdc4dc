/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-metrics.h — counters and gauges any plugin can register, rendered for Prometheus */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define KITH_TYPE_METRICS (kith_metrics_get_type ())
G_DECLARE_FINAL_TYPE (KithMetrics, kith_metrics, KITH, METRICS, GObject)

typedef enum {
  KITH_METRIC_COUNTER,
  KITH_METRIC_GAUGE,
} KithMetricKind;

/* A new, empty set of metrics; caller owns it. */
KithMetrics *kith_metrics_new (void);
/* Declares a metric family (name like kith_peering_packets_in_total) with its help text. */
void kith_metrics_register (KithMetrics *self, const gchar *name, KithMetricKind kind,
                            const gchar *help);
/* Adds @delta to the series @name{@labels}; @labels is e.g. "type=\"request\"" or NULL. */
void kith_metrics_add (KithMetrics *self, const gchar *name, const gchar *labels, gdouble delta);
/* Sets the series @name{@labels} to @value (gauges). */
void kith_metrics_set (KithMetrics *self, const gchar *name, const gchar *labels, gdouble value);
/* The current value of a series, 0 if never touched. */
gdouble kith_metrics_get (KithMetrics *self, const gchar *name, const gchar *labels);
/* Every series of family @name as a{sd} keyed by labels ("" for none); floating GVariant. */
GVariant *kith_metrics_to_variant (KithMetrics *self, const gchar *name);
/* The Prometheus text exposition of every metric; caller frees. */
gchar *kith_metrics_render (KithMetrics *self);

G_END_DECLS
