/*
 * test_access.c — the hardening config ("socket_mode", "socket_group",
 * "access", "limits") and the access levels computed from peer
 * credentials (daemon/conf/access.c), without a daemon.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/conf/access.h"
#include "daemon/conf/config.h"
#include "lib/util.h"
#include "tests/suite.h"

static struct brm_config *parse_ok(const char *text)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;

	ck_assert_msg(brm_config_parse(text, strlen(text), "t.json", &cfg, &err) == 0,
		      "'%s' failed: %s", text, err ? err : "");
	return cfg;
}

static void parse_err(const char *text, const char *needle)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;

	ck_assert_msg(brm_config_parse(text, strlen(text), "t.json", &cfg, &err) == -EINVAL,
		      "'%s' was accepted", text);
	ck_assert_msg(err && strstr(err, needle), "'%s': error '%s' lacks '%s'", text,
		      err ? err : "", needle);
	free(err);
}

START_TEST(defaults_are_safe)
{
	struct brm_config *cfg = parse_ok("{}");

	ck_assert_int_eq(cfg->socket_mode, 0600);
	ck_assert_ptr_null(cfg->socket_group);
	ck_assert_uint_eq(cfg->limits.max_message_bytes, 1u << 20);
	ck_assert_int_eq(cfg->limits.max_json_depth, 32);
	ck_assert_int_eq(cfg->limits.max_clients, 1024);
	ck_assert_uint_eq(cfg->limits.max_queued_bytes, 4u << 20);
	ck_assert(cfg->limits.idle_timeout_secs == 300);
	ck_assert_int_eq(cfg->limits.max_processes, 4096);
	ck_assert_int_eq(cfg->limits.max_name_len, 64);
	ck_assert_ptr_null(cfg->access.users);
	brm_config_destroy(cfg);
}
END_TEST

START_TEST(hardening_keys_parse)
{
	struct brm_config *cfg = parse_ok(
		"{\"socket_mode\": \"0660\", \"socket_group\": \"daemon\","
		" \"access\": {\"users\": [\"root\", 1000], \"groups\": [\"adm\"],"
		"   \"readers\": {\"users\": [\"*\"], \"groups\": [4]}},"
		" \"limits\": {\"max_message_bytes\": 4096, \"max_json_depth\": 8,"
		"   \"max_clients\": 10, \"max_queued_bytes\": 65536,"
		"   \"idle_timeout_secs\": \"2s\", \"max_processes\": 3, \"max_name_len\": 16}}");

	ck_assert_int_eq(cfg->socket_mode, 0660);
	ck_assert_str_eq(cfg->socket_group, "daemon");
	ck_assert_str_eq(cfg->access.users[0], "root");
	ck_assert_str_eq(cfg->access.users[1], "1000");
	ck_assert_ptr_null(cfg->access.users[2]);
	ck_assert_str_eq(cfg->access.groups[0], "adm");
	ck_assert_str_eq(cfg->access.reader_users[0], "*");
	ck_assert_str_eq(cfg->access.reader_groups[0], "4");
	ck_assert_uint_eq(cfg->limits.max_message_bytes, 4096);
	ck_assert_int_eq(cfg->limits.max_json_depth, 8);
	ck_assert_int_eq(cfg->limits.max_clients, 10);
	ck_assert_uint_eq(cfg->limits.max_queued_bytes, 65536);
	ck_assert(cfg->limits.idle_timeout_secs == 2);
	ck_assert_int_eq(cfg->limits.max_processes, 3);
	ck_assert_int_eq(cfg->limits.max_name_len, 16);
	brm_config_destroy(cfg);
}
END_TEST

START_TEST(bad_hardening_values_are_named)
{
	parse_err("{\"socket_mode\": \"0666\"}", "socket_mode: must not give access to others");
	parse_err("{\"socket_mode\": \"rw\"}", "socket_mode: expected an octal mode");
	parse_err("{\"socket_mode\": 432}", "socket_mode: expected an octal mode string");
	parse_err("{\"socket_group\": \"\"}", "socket_group: must not be empty");
	parse_err("{\"access\": []}", "access: expected an object");
	parse_err("{\"access\": {\"user\": []}}", "access.user: unknown key (did you mean \"users\"?)");
	parse_err("{\"access\": {\"users\": \"root\"}}", "access.users: expected an array");
	parse_err("{\"access\": {\"users\": [-1]}}", "access.users[0]: expected a user or group");
	parse_err("{\"access\": {\"readers\": {\"groups\": [true]}}}", "access.readers.groups[0]");
	parse_err("{\"limits\": {\"max_clients\": 0}}", "limits.max_clients: expected an integer from 1");
	parse_err("{\"limits\": {\"max_message_bytes\": 1e12}}", "limits.max_message_bytes");
	parse_err("{\"limits\": {\"max_json_depth\": 100000}}", "limits.max_json_depth");
	parse_err("{\"limits\": {\"max_name_len\": 65}}", "limits.max_name_len");
	parse_err("{\"limits\": {\"idle_timeout_secs\": -1}}", "limits.idle_timeout_secs");
	parse_err("{\"limits\": {\"max_depth\": 3}}", "limits.max_depth: unknown key");
	parse_err("{\"limits\": {\"max_processes\": 1}, \"processes\": {"
		  "\"a\": {\"cmd\": [\"true\"]}, \"b\": {\"cmd\": [\"true\"]}}}",
		  "limits.max_processes: is 1 but 2 processes are configured");
	parse_err("{\"limits\": {\"max_name_len\": 4}, \"processes\": {"
		  "\"abcd\": {\"cmd\": [\"true\"]}, \"abcde\": {\"cmd\": [\"true\"]}}}",
		  "processes.abcde: name is 5 bytes, longer than limits.max_name_len (4)");
	parse_err("{\"limits\": {\"max_name_len\": 5}, \"processes\": {"
		  "\"abc\": {\"cmd\": [\"true\"], \"instances\": 12}}}",
		  "processes.abc: instance names up to \"abc:11\" (6 bytes) are longer than"
		  " limits.max_name_len (5)");
}
END_TEST

START_TEST(levels_follow_the_access_config)
{
	struct brm_config *cfg = parse_ok(
		"{\"access\": {\"users\": [1000], \"groups\": [50],"
		" \"readers\": {\"users\": [2000], \"groups\": [60]}}}");
	struct brm_access *a = NULL;
	gid_t sup60[] = { 7, 60 }, sup50[] = { 50 };
	char *err = NULL;

	ck_assert_int_eq(brm_access_create(&cfg->access, 500, &a, &err), 0);
	ck_assert_int_eq(brm_access_level(a, 0, 0, NULL, 0), BRM_ACCESS_ALL);
	ck_assert_int_eq(brm_access_level(a, 500, 500, NULL, 0), BRM_ACCESS_ALL);
	ck_assert_int_eq(brm_access_level(a, 1000, 1000, NULL, 0), BRM_ACCESS_ALL);
	ck_assert_int_eq(brm_access_level(a, 1001, 50, NULL, 0), BRM_ACCESS_ALL);
	ck_assert_int_eq(brm_access_level(a, 1001, 1001, sup50, 1), BRM_ACCESS_ALL);
	ck_assert_int_eq(brm_access_level(a, 2000, 2000, NULL, 0), BRM_ACCESS_READ);
	ck_assert_int_eq(brm_access_level(a, 3000, 3000, sup60, 2), BRM_ACCESS_READ);
	ck_assert_int_eq(brm_access_level(a, 3000, 3000, NULL, 0), BRM_ACCESS_NONE);
	brm_access_destroy(a);
	brm_config_destroy(cfg);
	/* Without a config: root and the daemon's own uid. */
	ck_assert_int_eq(brm_access_level(NULL, 0, 0, NULL, 0), BRM_ACCESS_ALL);
	ck_assert_int_eq(brm_access_level(NULL, 4242, 4242, NULL, 0),
			 geteuid() == 4242 ? BRM_ACCESS_ALL : BRM_ACCESS_NONE);
}
END_TEST

START_TEST(unknown_names_fail_at_start)
{
	struct brm_config *cfg = parse_ok(
		"{\"access\": {\"users\": [\"no-such-user-xq\"],"
		" \"readers\": {\"groups\": [\"no-such-group-xq\"]}}}");
	struct brm_access *a = NULL;
	char *err = NULL;

	ck_assert_int_eq(brm_access_create(&cfg->access, 0, &a, &err), -EINVAL);
	ck_assert_msg(strstr(err, "access.users: no such user 'no-such-user-xq'"), "%s", err);
	ck_assert_msg(strstr(err, "access.readers.groups: no such group 'no-such-group-xq'"), "%s",
		      err);
	free(err);
	brm_config_destroy(cfg);
}
END_TEST

START_TEST(peer_credentials_of_a_socketpair)
{
	struct brm_peer peer;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(brm_access_peer(NULL, sv[0], &peer), 0);
	ck_assert_int_eq(peer.pid, getpid());
	ck_assert_int_eq(peer.uid, geteuid());
	ck_assert_int_eq(peer.level, BRM_ACCESS_ALL);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

BRM_TEST_CASE("access", "access", 0,
	defaults_are_safe,
	hardening_keys_parse,
	bad_hardening_values_are_named,
	levels_follow_the_access_config,
	unknown_names_fail_at_start,
	peer_credentials_of_a_socketpair);
