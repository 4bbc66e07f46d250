/*
 * status.h — the status methods' handlers (rpc/status.c), for the method
 * table (methods.c).
 * Context: worker threads (registered RCU readers).
 */
#ifndef BRM_RPC_STATUS_H
#define BRM_RPC_STATUS_H

#include "daemon/rpc/request.h"

enum brm_method_result brm_m_ping(struct brm_req *req, struct brm_cmd **cmd);
enum brm_method_result brm_m_status(struct brm_req *req, struct brm_cmd **cmd);

#endif
