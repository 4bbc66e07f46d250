/*
 * creds.h — whom a child runs as: the uid, gid and supplementary groups a
 * spawn request's "user" and "group" name, looked up through NSS in the
 * parent before the clone (the child may not allocate or lock; spawn.c).
 */
#ifndef BRM_CREDS_H
#define BRM_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct brm_spawn_req;

/*
 * Credentials for the child: uid, gid and the supplementary groups that
 * initgroups(user, gid) would give. Resolved in the parent (NSS may
 * allocate and lock).
 */
struct brm_creds {
	bool set_groups, set_gid, set_uid;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	char *ident[5];   /* HOME= USER= LOGNAME= SHELL= of a user switched to */
};

/*
 * Resolve @req->user and @req->group into @cr (zeroed first; nothing set
 * when neither is given). Returns 0, or a negative errno with a message in
 * @err ("user 'bob': no such user").
 * Ownership: on success the caller frees @cr->groups and each @cr->ident[i].
 * Context: the spawning thread (NSS may block: the loop thread in brummd).
 */
int brm_creds_resolve(const struct brm_spawn_req *req, struct brm_creds *cr, char *err,
		      size_t errlen);

#endif
