/*
 * cmd.c — the worker -> loop command queue: liburcu's wait-free concurrent
 * queue (about 50 ns an enqueue, no lock) plus one uv_async_t. Since
 * uv_async_send coalesces wake-ups, the loop always drains the whole queue.
 */
#include <stdlib.h>

#include "daemon/sup/cmd.h"
#include "daemon/conf/config.h"
#include "proto/proto.h"
#include "proto/rpc.h"

/* Serials never repeat, so a cancel can name a command that may be gone. */
static uint64_t next_serial;

struct brm_cmd *brm_cmd_create(const struct brm_cmd_op *op, const char *id_json)
{
	struct brm_cmd *cmd = brm_xcalloc(1, sizeof(*cmd));

	cmd->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);

	cds_wfcq_node_init(&cmd->node);
	cds_wfcq_node_init(&cmd->ret_node);
	cmd->op = op;
	cmd->want_state = -1;
	cmd->id_json = brm_xstrdup(id_json ? id_json : "null");
	brm_buf_init(&cmd->reply);
	return cmd;
}

void brm_cmd_destroy(struct brm_cmd *cmd)
{
	if (!cmd)
		return;
	free(cmd->id_json);
	brm_strv_free(cmd->names);
	brm_spec_destroy(cmd->spec);
	free(cmd->spec_json);
	free(cmd->want_health);
	brm_buf_finish(&cmd->reply);
	free(cmd);
}

static void on_async(uv_async_t *h)
{
	brm_cmdq_drain(h->data);
}

int brm_cmdq_init(struct brm_cmdq *q, uv_loop_t *loop,
		  void (*execute)(struct brm_cmd *cmd, void *arg), void *arg)
{
	cds_wfcq_init(&q->head, &q->tail);
	q->execute = execute;
	q->arg = arg;
	q->async.data = q;
	return uv_async_init(loop, &q->async, on_async);
}

void brm_cmdq_submit(struct brm_cmdq *q, struct brm_cmd *cmd)
{
	BRM_HANDOFF_RELEASE(cmd);
	cds_wfcq_enqueue(&q->head, &q->tail, &cmd->node);
	uv_async_send(&q->async);
}

void brm_cmdq_drain(struct brm_cmdq *q)
{
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	struct cds_wfcq_node *node, *next;

	cds_wfcq_init(&head, &tail);
	__cds_wfcq_splice_blocking(&head, &tail, &q->head, &q->tail);
	__cds_wfcq_for_each_blocking_safe(&head, &tail, node, next) {
		struct brm_cmd *cmd = caa_container_of(node, struct brm_cmd, node);
		BRM_HANDOFF_ACQUIRE(cmd);
		q->execute(cmd, q->arg);
	}
}

static void fail_cmd(struct brm_cmd *cmd, void *arg)
{
	(void)arg;
	brm_rpc_error(&cmd->reply, cmd->id_json, BRM_E_INTERNAL, "brummd is shutting down", NULL);
	cmd->done(cmd);
}

static void (*close_hook)(void *arg);
static void *close_hook_arg;

void brm_cmdq_set_close_hook(void (*fn)(void *arg), void *arg)
{
	close_hook = fn;
	close_hook_arg = arg;
}

void brm_cmdq_close(struct brm_cmdq *q)
{
	if (close_hook)
		close_hook(close_hook_arg);
	q->execute = fail_cmd;
	brm_cmdq_drain(q);
	uv_close((uv_handle_t *)&q->async, NULL);
}

static void free_cmd(struct brm_cmd *cmd, void *arg)
{
	(void)arg;
	brm_cmd_destroy(cmd);
}

void brm_cmdq_discard(struct brm_cmdq *q)
{
	q->execute = free_cmd;
	brm_cmdq_drain(q);
}
