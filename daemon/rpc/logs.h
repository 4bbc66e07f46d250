/*
 * logs.h — the read-only log methods, answered on the worker from
 * the rings and error sets (never waking the loop thread): `logs`,
 * `errors`, and `logs_reopen` (asks the file writer to reopen its files).
 * Context: worker threads (registered RCU readers).
 */
#ifndef BRM_LOGS_METHOD_H
#define BRM_LOGS_METHOD_H

#include "daemon/rpc/request.h"

enum brm_method_result brm_m_logs(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_errors(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_logs_reopen(struct brm_req *req, struct brm_cmd **cmd);

#endif
