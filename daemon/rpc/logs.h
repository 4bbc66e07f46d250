/*
 * logs.h — the read-only log methods, answered on the worker from
 * the rings and error sets (never waking the loop thread): `logs`,
 * `errors`, and `logs_reopen` (asks the file writer to reopen its files).
 * Context: worker threads (registered RCU readers).
 */
#ifndef BRM_LOGS_METHOD_H
#define BRM_LOGS_METHOD_H

#include "daemon/rpc/request.h"
#include "lib/logring.h"

enum brm_method_result brm_m_logs(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_errors(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_logs_reopen(struct brm_req *req, struct brm_cmd **cmd);

/* One line as the protocol's line object, appended to @out. */
void brm_logline_json(struct brm_buf *out, const char *name, const struct brm_logline *l,
		      const char *text);
const char *brm_log_stream_name(int stream);

#endif
