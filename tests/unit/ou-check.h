/* SPDX-License-Identifier: MIT */
#pragma once
/*
 * Shared main() for the Check unit suites: TAP on stdout (meson's
 * protocol: 'tap'), nothing else on stdout, exit status from the result.
 * Use: OU_CHECK_MAIN(make_suite)
 */
#include <check.h>
#include <stdlib.h>

#define OU_CHECK_MAIN(suite_fn)                                                                    \
	int main(void)                                                                             \
	{                                                                                          \
		SRunner *sr = srunner_create(suite_fn());                                          \
		int failed;                                                                        \
		srunner_set_tap(sr, "-");                                                          \
		srunner_run_all(sr, CK_SILENT);                                                    \
		failed = srunner_ntests_failed(sr);                                                \
		srunner_free(sr);                                                                  \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                       \
	}
