/*
 * fuzz_request.c — libFuzzer target for one request line: framing checks,
 * JSON parsing, the JSON-RPC envelope, permissions and every method's
 * parameter checks (brm_server_dispatch, whose envelope is
 * proto/envelope.c), against a registry holding a few processes. Mutating
 * methods stop at the command they would queue: the loop thread is not
 * part of this target.
 *
 * Each input is one line; the first byte picks the peer's access level,
 * so the not-permitted paths are fuzzed too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/access.h"
#include "daemon/sup/cmd.h"
#include "daemon/conf/limits.h"
#include "daemon/rpc/methods.h"
#include "daemon/rpc/dispatch.h"
#include "fuzz/line.h"
#include "lib/registry.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct brm_ctx ctx;
static struct brm_scratch scratch;
static struct brm_buf out = BRM_BUF_INIT;
static const struct brm_limits limits = BRM_LIMITS_DEFAULT;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const names[] = { "web", "db", "p", "worker:1", "a.b@c" };

	(void)argc;
	(void)argv;
	rcu_register_thread();
	ctx.reg = brm_registry_create();
	ctx.pid = 4242;
	ctx.limits = &limits;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct brm_snapshot *s = brm_snapshot_create(names[i], i % 2 ? "exec failed" : NULL,
							     "sleep 60");
		s->state = (enum brm_state)(i % BRM_STATE_COUNT);
		s->pid = i % 2 ? 0 : 1000 + (int)i;
		s->restart = "on-failure";
		brm_registry_insert(ctx.reg, s);
	}
	brm_scratch_init(&scratch);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct brm_peer peer = { .pid = 1, .uid = 0, .gid = 0, .level = BRM_ACCESS_ALL };
	struct brm_cmd *cmd = NULL;
	char *line;
	size_t len;

	if (size && data[0] < 3 && size > 1) {
		peer.level = (enum brm_access_level)data[0];
		data++;
		size--;
	}
	line = brm_fuzz_line(data, size, limits.max_message_bytes, &len);
	if (!line)
		return 0;
	brm_buf_reset(&out);
	if (brm_server_dispatch(&ctx, &scratch, &peer, line, len, &out, NULL, NULL, &cmd))
		brm_cmd_destroy(cmd);
	/* Every reply is one complete line. */
	if (out.len && (out.p[out.len - 1] != '\n' || memchr(out.p, '\n', out.len) != out.p + out.len - 1))
		abort();
	free(line);
	return 0;
}
