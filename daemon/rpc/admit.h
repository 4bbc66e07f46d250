/*
 * admit.h — admission of new connections and their count per uid
 * (admit.c). Context: any worker; takes the server's uid_lock.
 */
#ifndef BRM_ADMIT_H
#define BRM_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct brm_server;
struct brm_peer;

/*
 * May @peer take one more connection? Root and brummd's own uid may use
 * every one of max_clients; other uids together leave the reserved slots
 * (brm_limits_reserved_clients) free, and each holds at most
 * max_clients_per_uid. @n is nclients with this one counted. Counts it per
 * uid (*@counted) when it may; else writes why into @msg.
 */
bool admit(struct brm_server *srv, const struct brm_peer *peer, int n, bool *counted,
	   char *msg, size_t size);
/* A connection counted by admit() closed. */
void uid_release(struct brm_server *srv, uid_t uid);

#endif
