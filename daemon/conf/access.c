/*
 * access.c — peer credentials against the "access" config (access.h).
 *
 * Names are resolved once at start-up so that a worker never calls into
 * NSS (which may block on a network directory) while it serves clients.
 * A user or group that appears later needs a restart, as for sshd's
 * AllowUsers.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/conf/access.h"
#include "daemon/conf/accessspec.h"
#include "lib/buf.h"

#define MAX_PEER_GROUPS 256

struct idset {
	unsigned *ids;
	size_t n;
	bool any;         /* "*" */
};

struct brm_access {
	uid_t self;
	struct idset users, groups, reader_users, reader_groups;
};

static bool idset_has(const struct idset *s, unsigned id)
{
	if (s->any)
		return true;
	for (size_t i = 0; i < s->n; i++)
		if (s->ids[i] == id)
			return true;
	return false;
}

static bool parse_id(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xfffffffeUL)
		return false;
	*out = (unsigned)v;
	return true;
}

static void resolve(struct idset *set, char *const *names, bool group, const char *what,
		    struct brm_buf *errs)
{
	size_t n = 0;

	while (names && names[n])
		n++;
	set->ids = n ? brm_xcalloc(n, sizeof(*set->ids)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];
		unsigned id;

		if (!strcmp(name, "*")) {
			set->any = true;
			continue;
		}
		if (!parse_id(name, &id)) {
			if (group) {
				struct group *gr = getgrnam(name);
				if (!gr) {
					brm_buf_addf(errs, "%s: no such group '%s'\n", what, name);
					continue;
				}
				id = (unsigned)gr->gr_gid;
			} else {
				struct passwd *pw = getpwnam(name);
				if (!pw) {
					brm_buf_addf(errs, "%s: no such user '%s'\n", what, name);
					continue;
				}
				id = (unsigned)pw->pw_uid;
			}
		}
		set->ids[set->n++] = id;
	}
}

int brm_access_create(const struct brm_access_spec *spec, uid_t self,
		      struct brm_access **out, char **err)
{
	struct brm_access *a = brm_xcalloc(1, sizeof(*a));
	struct brm_buf errs = BRM_BUF_INIT;

	a->self = self;
	if (spec) {
		resolve(&a->users, spec->users, false, "access.users", &errs);
		resolve(&a->groups, spec->groups, true, "access.groups", &errs);
		resolve(&a->reader_users, spec->reader_users, false, "access.readers.users", &errs);
		resolve(&a->reader_groups, spec->reader_groups, true, "access.readers.groups",
			&errs);
	}
	if (errs.len) {
		errs.p[--errs.len] = '\0';
		*err = brm_buf_detach(&errs);
		brm_access_destroy(a);
		return -EINVAL;
	}
	brm_buf_finish(&errs);
	*out = a;
	return 0;
}

void brm_access_destroy(struct brm_access *a)
{
	if (!a)
		return;
	free(a->users.ids);
	free(a->groups.ids);
	free(a->reader_users.ids);
	free(a->reader_groups.ids);
	free(a);
}

enum brm_access_level brm_access_level(const struct brm_access *a, uid_t uid, gid_t gid,
				       const gid_t *groups, size_t ngroups)
{
	static const struct brm_access none;
	bool reader;

	if (!a) {
		if (uid == 0 || uid == geteuid())
			return BRM_ACCESS_ALL;
		a = &none;
	}
	if (uid == 0 || uid == a->self || idset_has(&a->users, uid) ||
	    idset_has(&a->groups, gid))
		return BRM_ACCESS_ALL;
	for (size_t i = 0; i < ngroups; i++)
		if (idset_has(&a->groups, groups[i]))
			return BRM_ACCESS_ALL;
	reader = idset_has(&a->reader_users, uid) || idset_has(&a->reader_groups, gid);
	for (size_t i = 0; !reader && i < ngroups; i++)
		reader = idset_has(&a->reader_groups, groups[i]);
	return reader ? BRM_ACCESS_READ : BRM_ACCESS_NONE;
}

int brm_access_peer(const struct brm_access *a, int fd, struct brm_peer *peer)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t groups[MAX_PEER_GROUPS];
	socklen_t glen = sizeof(groups);
	size_t ngroups = 0;

	memset(peer, 0, sizeof(*peer));
	peer->level = BRM_ACCESS_NONE;
	peer->uid = (uid_t)-1;
	peer->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	peer->pid = cr.pid;
	peer->uid = cr.uid;
	peer->gid = cr.gid;
	/* More groups than fit: judged on the first MAX_PEER_GROUPS. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		ngroups = glen / sizeof(gid_t);
	peer->level = brm_access_level(a, cr.uid, cr.gid, groups, ngroups);
	return 0;
}
