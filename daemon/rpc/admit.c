/*
 * admit.c — who may open one more connection: max_clients for everyone,
 * the slots kept for root and brummd's own uid, and max_clients_per_uid,
 * counted per uid under one lock (taken per accept and per close, never
 * per request). Refusals are logged at most once per uid every 10 s.
 */
#include <pthread.h>
#include <stdio.h>

#include "daemon/log.h"
#include "daemon/rpc/admit.h"
#include "daemon/rpc/server_types.h"

#define UID_LOG_EVERY_NS (10ull * 1000000000)

/*
 * Caller holds uid_lock. Forget slot @i once it holds no connection and
 * its last warning is 10 s old (so that a uid that comes back at once is
 * still rate-limited); what it refused since is told now.
 */
static bool uid_forget_if_idle(struct brm_server *srv, size_t i, uint64_t now)
{
	struct uid_slot *u = &srv->uids[i];

	if (u->count || (u->logged_ns && now - u->logged_ns < UID_LOG_EVERY_NS))
		return false;
	if (u->refused)
		brm_log_warn("refused %lu more connection(s) from uid %u (max_clients_per_uid %d)",
			     u->refused, (unsigned)u->uid, srv->limits.max_clients_per_uid);
	*u = srv->uids[--srv->nuids];
	return true;
}

/*
 * Caller holds uid_lock. The table holds the uids with connections open
 * and those warned about in the last 10 s: small, so a linear search.
 * Adding a uid first forgets the idle ones.
 */
static struct uid_slot *uid_find(struct brm_server *srv, uid_t uid, bool add)
{
	uint64_t now;

	for (size_t i = 0; i < srv->nuids; i++)
		if (srv->uids[i].uid == uid)
			return &srv->uids[i];
	if (!add)
		return NULL;
	now = brm_now_mono_ns();
	for (size_t i = 0; i < srv->nuids; )
		if (!uid_forget_if_idle(srv, i, now))
			i++;
	if (srv->nuids == srv->uids_cap) {
		srv->uids_cap = srv->uids_cap ? 2 * srv->uids_cap : 16;
		srv->uids = brm_xrealloc(srv->uids, srv->uids_cap * sizeof(*srv->uids));
	}
	srv->uids[srv->nuids] = (struct uid_slot){ .uid = uid };
	return &srv->uids[srv->nuids++];
}

void uid_release(struct brm_server *srv, uid_t uid)
{
	struct uid_slot *u;

	pthread_mutex_lock(&srv->uid_lock);
	u = uid_find(srv, uid, false);
	if (u) {
		u->count--;
		uid_forget_if_idle(srv, (size_t)(u - srv->uids), brm_now_mono_ns());
	}
	pthread_mutex_unlock(&srv->uid_lock);
}

/*
 * May @peer take one more connection? Root and brummd's own uid may use
 * every one of max_clients; other uids together leave the reserved slots
 * (brm_limits_reserved_clients) free, and each holds at most
 * max_clients_per_uid. @n is nclients with this one counted (at once
 * after accept, so that clients are counted in the order they came). Counts
 * it per uid (*@counted) when it may; else writes why into @msg. Refusals
 * by the per-uid cap are logged at most once per uid every 10 s, with
 * their count.
 */
bool admit(struct brm_server *srv, const struct brm_peer *peer, int n, bool *counted,
		  char *msg, size_t size)
{
	const struct brm_limits *l = &srv->limits;
	bool privileged = peer->uid == 0 || peer->uid == srv->self_uid;
	int max = privileged ? l->max_clients : l->max_clients - brm_limits_reserved_clients(l);
	struct uid_slot *u;
	bool ok = true;

	*counted = false;
	if (n > max) {
		if (privileged)
			snprintf(msg, size, "too many clients (max_clients %d); try again later",
				 l->max_clients);
		else
			snprintf(msg, size, "too many clients (max_clients %d, of which %d are kept"
				 " for root); try again later", l->max_clients,
				 brm_limits_reserved_clients(l));
		return false;
	}
	if (privileged)
		return true;
	pthread_mutex_lock(&srv->uid_lock);
	u = uid_find(srv, peer->uid, true);
	if (u->count < l->max_clients_per_uid) {
		u->count++;
		*counted = true;
	} else {
		uint64_t now = brm_now_mono_ns();

		ok = false;
		u->refused++;
		if (!u->logged_ns || now - u->logged_ns >= UID_LOG_EVERY_NS) {
			brm_log_warn("refused %lu connection(s) from uid %u: it holds %d"
				     " (max_clients_per_uid %d)", u->refused, (unsigned)peer->uid,
				     u->count, l->max_clients_per_uid);
			u->logged_ns = now;
			u->refused = 0;
		}
		snprintf(msg, size, "too many connections from uid %u (max_clients_per_uid %d)",
			 (unsigned)peer->uid, l->max_clients_per_uid);
	}
	pthread_mutex_unlock(&srv->uid_lock);
	return ok;
}
