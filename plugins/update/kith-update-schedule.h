/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-schedule.h — when the next update check runs (docs/architecture.md, "Update schedule"), as pure
 * arithmetic: the caller passes the clock and the random draw, so tests can too */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KITH_UPDATE_SCHEDULE_START,   /* the agent just started */
  KITH_UPDATE_SCHEDULE_SUCCESS, /* the last check succeeded */
  KITH_UPDATE_SCHEDULE_FAILURE, /* the last check failed */
} KithUpdateScheduleEvent;

typedef struct {
  guint64 first_check_ms;    /* after start; default 5 min */
  guint64 interval_ms;       /* after a success; default 12 h */
  guint64 retry_interval_ms; /* after a failure; default 6 h */
  guint jitter_percent;      /* each delay is spread uniformly over ±this share; default 10 */
} KithUpdateSchedule;

#define KITH_UPDATE_SCHEDULE_FIRST_CHECK_MS (5 * 60 * 1000ULL)
#define KITH_UPDATE_SCHEDULE_INTERVAL_MS (12 * 3600 * 1000ULL)
#define KITH_UPDATE_SCHEDULE_RETRY_INTERVAL_MS (6 * 3600 * 1000ULL)
#define KITH_UPDATE_SCHEDULE_JITTER_PERCENT 10

/* The patent's defaults. */
void kith_update_schedule_init (KithUpdateSchedule *schedule);
/* The delay before the next check after @event, for a draw @random in [0, 1): base ± jitter,
 * where 0 gives the earliest and values near 1 the latest moment. */
guint64 kith_update_schedule_delay_ms (const KithUpdateSchedule *schedule,
                                       KithUpdateScheduleEvent event, gdouble random);
/* @now_ms (any clock, milliseconds) plus that delay. */
gint64 kith_update_schedule_next_ms (const KithUpdateSchedule *schedule,
                                     KithUpdateScheduleEvent event, gint64 now_ms, gdouble random);

G_END_DECLS
