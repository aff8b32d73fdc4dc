/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kith-test-suite.c — runs a check suite the same way in every test program */
#include "kith-test-suite.h"

#include <stdlib.h>

int
kith_test_run_suite (Suite *suite)
{
  SRunner *runner = srunner_create (suite);
  int failed;

  srunner_run_all (runner, CK_NORMAL);
  failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
