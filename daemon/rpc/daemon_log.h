/*
 * daemon_log.h — the `daemon_log` method: brummd's own recent log lines,
 * kept by daemon/log.c in a ring, answered on the worker (never waking the
 * loop thread), and with "follow" streamed to the connection as they are
 * written, as supervisorctl's maintail does. Admin-only (methods.h).
 * Context: worker threads (registered RCU readers).
 */
#ifndef BRM_DAEMON_LOG_H
#define BRM_DAEMON_LOG_H

#include "daemon/rpc/request.h"

#define BRM_DAEMON_LOG_OUT_MAX (64u << 10)

enum brm_method_result brm_m_daemon_log(struct brm_req *req, struct brm_cmd **cmd);

#endif
