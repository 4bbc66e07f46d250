/*
 * access.h — who may talk to brummd: peer credentials (SO_PEERCRED and
 * SO_PEERGROUPS) of every connection checked against the config's "access"
 * section.
 *
 * Levels: root and the daemon's own uid may call every method, as may the
 * configured users and groups; "readers" may call the read-only methods
 * (ping, status, logs); everyone else gets -32003 "not permitted".
 *
 * brm_access_create resolves names once at start-up (loop thread); the
 * result is read-only afterwards and safe from any thread.
 */
#ifndef BRM_ACCESS_H
#define BRM_ACCESS_H

#include <stdbool.h>
#include <sys/types.h>

struct brm_access_spec;

enum brm_access_level {
	BRM_ACCESS_NONE = 0,
	BRM_ACCESS_READ,
	BRM_ACCESS_ALL,
};

/* A connection's peer, as the kernel reports it. */
struct brm_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	enum brm_access_level level;
};

struct brm_access;

/*
 * Resolve @spec (NULL: the defaults) for a daemon running as @self.
 * Names that do not resolve are errors. Returns 0 and *@out, or -EINVAL
 * and *@err (caller frees). Ownership: caller, brm_access_destroy().
 */
int brm_access_create(const struct brm_access_spec *spec, uid_t self,
		      struct brm_access **out, char **err);
void brm_access_destroy(struct brm_access *a);

/*
 * Fill @peer from the connected socket @fd and decide its level. A socket
 * whose credentials cannot be read gets BRM_ACCESS_NONE. Returns 0 or -errno.
 * Context: any thread.
 */
int brm_access_peer(const struct brm_access *a, int fd, struct brm_peer *peer);

/* The level of a peer with @uid, primary @gid and supplementary @groups. */
enum brm_access_level brm_access_level(const struct brm_access *a, uid_t uid, gid_t gid,
				       const gid_t *groups, size_t ngroups);

/* May @peer call a method that is @mutating? */
static inline bool brm_access_allows(const struct brm_peer *peer, bool mutating)
{
	return peer->level == BRM_ACCESS_ALL || (peer->level == BRM_ACCESS_READ && !mutating);
}

#endif
