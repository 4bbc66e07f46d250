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

struct passwd;

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
 * Resolve @user and @group (each NULL when not given) into @cr (zeroed first; nothing set
 * when neither is given). Returns 0, or a negative errno with a message in
 * @err ("user 'bob': no such user").
 * Ownership: on success the caller frees @cr->groups and each @cr->ident[i].
 * Context: the spawning thread (NSS may block: the loop thread in brummd).
 */
int brm_creds_resolve(const char *user, const char *group, struct brm_creds *cr, char *err,
		      size_t errlen);

/*
 * Look a user up in the user database, by name @user when @id is NULL, else
 * by uid *@id, into @pw; its strings go into *@buf, grown (brm_xrealloc)
 * while the database says ERANGE, up to 1 MiB.
 * Returns 0 when found, ENOENT when there is no such user (getpwnam_r's
 * "not found" answers: 0, ENOENT, ESRCH, EBADF, EPERM), or another positive
 * error number the lookup gave.
 * Ownership: the caller frees *@buf (also on failure; NULL to start with).
 * Context: any thread (NSS may block).
 */
int brm_creds_getpw(const char *user, const uid_t *id, struct passwd *pw, char **buf);

/*
 * The uid @user names: its entry in the user database, else a decimal id.
 * Returns false when it is neither (a lookup error counts as "no such user").
 * Context: any thread (NSS may block).
 */
bool brm_creds_user_uid(const char *user, uid_t *uid);

#endif
