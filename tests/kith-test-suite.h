/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-suite.h — runs a check suite the same way in every test program */
#pragma once

#include <check.h>

/* Runs every test of @suite (check forks each), prints check's summary line and
 * returns the process exit status: 0 when nothing failed. Takes @suite. */
int kith_test_run_suite (Suite *suite);
