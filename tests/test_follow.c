/*
 * test_follow.c — Check suite for the wake slots of log followers
 * (daemon/rpc/follow.c): a server with many workers, more than follow.c's
 * old fixed table of 128, gives every worker a slot, so the loop's wake-up
 * reaches followers on the last worker as on the first.
 *
 * The server is made (brm_server_adopt sizes the slots from its worker
 * count) but not started: the test's own threads play its workers, each
 * taking a slot with its own eventfd and holding one follower, so which
 * worker a follower lands on is not left to the kernel's accept order.
 */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/rpc/follow.h"
#include "daemon/rpc/request.h"
#include "daemon/rpc/server.h"
#include "tests/suite.h"

/* Above the 128 slots follow.c once had; each worker costs the server
 * three descriptors and this test one. */
#define NWORKERS 160

static int evfds[NWORKERS];
static struct brm_wake_slot *held[NWORKERS];

static void *play_worker(void *arg)
{
	int i = (int)(intptr_t)arg;

	brm_stream_worker_init(evfds[i]);
	held[i] = brm_stream_hold();
	return NULL;
}

/* Read the eventfd's counter: 0 when nothing was written since. */
static uint64_t drain(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

START_TEST(every_worker_is_woken)
{
	struct brm_ctx ctx = { 0 };
	struct brm_server *srv = NULL;
	char *err = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(brm_server_adopt(fd, NWORKERS, &ctx, &srv, &err), 0);
	for (int i = 0; i < NWORKERS; i++) {
		pthread_t t;

		evfds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ck_assert_int_ge(evfds[i], 0);
		/* One after another, as brm_server_start starts them. */
		ck_assert_int_eq(pthread_create(&t, NULL, play_worker, (void *)(intptr_t)i), 0);
		pthread_join(t, NULL);
	}
	for (int i = 0; i < NWORKERS; i++) {
		ck_assert_msg(held[i] != NULL, "worker %d of %d has no wake slot", i + 1, NWORKERS);
		drain(evfds[i]);   /* the hold's own "look at once" */
	}

	brm_stream_wake_all();   /* what the loop does after new lines */
	for (int i = 0; i < NWORKERS; i++)
		ck_assert_msg(drain(evfds[i]) == 1, "worker %d of %d was not woken", i + 1, NWORKERS);

	for (int i = 0; i < NWORKERS; i++) {
		brm_stream_release(held[i]);
		close(evfds[i]);
	}
	brm_server_stop(srv);
}
END_TEST

BRM_TEST_CASE("follow", "wake slots", 30, every_worker_is_woken);
