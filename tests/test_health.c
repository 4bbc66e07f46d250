/*
 * test_health.c — health checks and readiness against a real brummd:
 * unhealthy -> restart, an s6-style notification fd, $NOTIFY_SOCKET
 * READY=1, and a log regex as readiness.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

static void start_one(const char *spec)
{
	char cfg[4096];

	snprintf(cfg, sizeof(cfg), "{\"processes\": {\"p\": {%s}}}", spec);
	ck_assert_msg(brmh_start(&H, cfg, NULL) == 0, "brummd did not start (log: %s)", H.log);
}

static const char *state_of(const char *name, char *buf, size_t len)
{
	cJSON *s = brmh_status(&H, name);

	snprintf(buf, len, "%s", s && brmh_str(s, "state") ? brmh_str(s, "state") : "?");
	cJSON_Delete(s);
	return buf;
}

START_TEST(unhealthy_restarts)
{
	char spec[1024];
	long pid1, pid2 = -1;
	cJSON *s;

	snprintf(spec, sizeof(spec),
		 "\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0,"
		 "\"health\": {\"exec\": [\"/bin/sh\", \"-c\", \"echo db down; exit 1\"],"
		 " \"interval_secs\": 0.05, \"retries\": 2, \"on_unhealthy\": \"restart\"}",
		 brmh_child());
	start_one(spec);
	ck_assert(brmh_wait_state(&H, "p", "running", 2000));
	s = brmh_status(&H, "p");
	pid1 = brmh_int(s, "pid");
	cJSON_Delete(s);
	for (int i = 0; i < 200; i++) {
		s = brmh_status(&H, "p");
		pid2 = brmh_int(s, "pid");
		cJSON_Delete(s);
		if (pid2 > 0 && pid2 != pid1)
			break;
		brmh_sleep_ms(10);
	}
	ck_assert_msg(pid2 > 0 && pid2 != pid1, "not restarted: pid %ld -> %ld", pid1, pid2);
	/* the probe's output is shown */
	for (int i = 0; i < 200; i++) {
		s = brmh_status(&H, "p");
		if (brmh_str(s, "health_output") && strstr(brmh_str(s, "health_output"), "db down"))
			break;
		cJSON_Delete(s);
		s = NULL;
		brmh_sleep_ms(10);
	}
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(brmh_str(s, "health_output"), "exit 1: db down");
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(healthy_stays)
{
	char spec[1024];
	cJSON *s;

	snprintf(spec, sizeof(spec),
		 "{\"processes\": {\"p\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0,"
		 "\"health\": {\"exec\": [\"/bin/sh\", \"-c\", \"echo fine\"],"
		 " \"interval_secs\": 0.05}},"
		 " \"q\": {\"cmd\": [\"%s\", \"sleep\", \"30\"], \"start_secs\": 0}}}",
		 brmh_child(), brmh_child());
	ck_assert_msg(brmh_start(&H, spec, NULL) == 0, "brummd did not start (log: %s)", H.log);
	for (int i = 0; i < 200; i++) {
		s = brmh_status(&H, "p");
		if (!strcmp(brmh_str(s, "health"), "healthy"))
			break;
		cJSON_Delete(s);
		s = NULL;
		brmh_sleep_ms(10);
	}
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(brmh_str(s, "health_output"), "fine");
	cJSON_Delete(s);
	/* A process without a check has health null. */
	ck_assert(brmh_wait_state(&H, "q", "running", 3000));
	s = brmh_status(&H, "q");
	ck_assert_ptr_nonnull(s);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "health")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(s, "health_output")));
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(notify_fd_readiness)
{
	char spec[1024], st[32];

	snprintf(spec, sizeof(spec),
		 "\"cmd\": [\"%s\", \"notify-fd\", \"4\", \"0.4\"], \"start_secs\": 0,"
		 "\"ready\": \"notify-fd\", \"notify_fd\": 4", brmh_child());
	start_one(spec);
	brmh_sleep_ms(150);
	ck_assert_str_eq(state_of("p", st, sizeof(st)), "starting");
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	brmh_check_stop(&H);
}
END_TEST

START_TEST(sd_notify_readiness)
{
	char spec[1024], st[32];

	snprintf(spec, sizeof(spec),
		 "\"cmd\": [\"%s\", \"sd-notify\", \"0.4\"], \"start_secs\": 0,"
		 "\"ready\": \"sd-notify\"", brmh_child());
	start_one(spec);
	brmh_sleep_ms(150);
	ck_assert_str_eq(state_of("p", st, sizeof(st)), "starting");
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	brmh_check_stop(&H);
}
END_TEST

START_TEST(log_regex_readiness)
{
	char spec[1024], st[32];
	int port = 20000 + (int)((getpid() + 7) % 20000);
	cJSON *s;

	snprintf(spec, sizeof(spec),
		 "\"cmd\": [\"%s\", \"listen\", \"%d\", \"0.3\"], \"start_secs\": 0,"
		 "\"ready\": \"health\", \"health\": {\"log\": \"listening on [0-9]+\"}",
		 brmh_child(), port);
	start_one(spec);
	brmh_sleep_ms(100);
	ck_assert_str_eq(state_of("p", st, sizeof(st)), "starting");
	ck_assert(brmh_wait_state(&H, "p", "running", 3000));
	s = brmh_status(&H, "p");
	ck_assert_str_eq(brmh_str(s, "health"), "healthy");
	ck_assert_ptr_nonnull(strstr(brmh_str(s, "health_output"), "listening on"));
	cJSON_Delete(s);
	brmh_check_stop(&H);
}
END_TEST

BRM_TEST_CASE("health", "health", 20,
	unhealthy_restarts,
	healthy_stays,
	notify_fd_readiness,
	sd_notify_readiness,
	log_regex_readiness);
