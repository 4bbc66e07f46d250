/*
 * commands.h — the control methods' handlers (rpc/commands.c), for the
 * method table (methods.c); the loop thread's side of the same methods is
 * daemon/sup/control.h.
 * Context: worker threads (registered RCU readers).
 */
#ifndef BRM_RPC_COMMANDS_H
#define BRM_RPC_COMMANDS_H

#include "daemon/rpc/request.h"

/* The highest signal number `signal` takes. */
#define BRM_MAX_SIGNAL 64

/* start, stop and restart: which of them is the command's op. */
enum brm_method_result brm_m_lifecycle(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_signal(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_add(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_remove(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_wait(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_reload(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_shutdown(struct brm_req *req, struct brm_cmd **cmd);

#endif
