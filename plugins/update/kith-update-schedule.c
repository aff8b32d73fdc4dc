/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-update-schedule.c — base delays from the patent, spread by jitter so that a
 * LAN of nodes started together does not ask the backend at the same instant */
#include "kith-update-schedule.h"

void
kith_update_schedule_init (KithUpdateSchedule *schedule)
{
  schedule->first_check_ms = KITH_UPDATE_SCHEDULE_FIRST_CHECK_MS;
  schedule->interval_ms = KITH_UPDATE_SCHEDULE_INTERVAL_MS;
  schedule->retry_interval_ms = KITH_UPDATE_SCHEDULE_RETRY_INTERVAL_MS;
  schedule->jitter_percent = KITH_UPDATE_SCHEDULE_JITTER_PERCENT;
}

guint64
kith_update_schedule_delay_ms (const KithUpdateSchedule *schedule, KithUpdateScheduleEvent event,
                               gdouble random)
{
  guint64 base = schedule->interval_ms;
  guint64 spread;
  guint percent = MIN (schedule->jitter_percent, 100u);

  if (event == KITH_UPDATE_SCHEDULE_START)
    base = schedule->first_check_ms;
  else if (event == KITH_UPDATE_SCHEDULE_FAILURE)
    base = schedule->retry_interval_ms;
  random = CLAMP (random, 0.0, 1.0);
  spread = base / 100 * percent + base % 100 * percent / 100;
  /* base - spread + random * 2 * spread, in [base - spread, base + spread] */
  return base - spread + (guint64) (random * (gdouble) (2 * spread));
}

gint64
kith_update_schedule_next_ms (const KithUpdateSchedule *schedule, KithUpdateScheduleEvent event,
                              gint64 now_ms, gdouble random)
{
  return now_ms + (gint64) kith_update_schedule_delay_ms (schedule, event, random);
}
