/*
 * creds.c — resolve a spawn request's user and group into the ids and
 * supplementary groups the child switches to (creds.h). Numeric ids are
 * accepted when the user database has no such name; a user found there also
 * gives the child HOME, USER, LOGNAME and SHELL, as a login would.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/sup/creds.h"
#include "lib/util.h"

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= (unsigned long)(uid_t)-1)
		return false;
	*out = v;
	return true;
}

static size_t nss_bufsize(int name)
{
	long n = sysconf(name);

	return n > 0 ? (size_t)n : 16384;
}

int brm_creds_getpw(const char *user, const uid_t *id, struct passwd *pw, char **buf)
{
	size_t len = nss_bufsize(_SC_GETPW_R_SIZE_MAX);
	struct passwd *res = NULL;
	int rc;

	for (;;) {
		*buf = brm_xrealloc(*buf, len);
		if (!id)
			rc = getpwnam_r(user, pw, *buf, len, &res);
		else
			rc = getpwuid_r(*id, pw, *buf, len, &res);
		if (rc != ERANGE || len >= (1u << 20))
			break;
		len *= 2;
	}
	if (res)
		return 0;
	if (!rc || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
		return ENOENT;
	return rc;
}

bool brm_creds_user_uid(const char *user, uid_t *uid)
{
	struct passwd pw;
	char *buf = NULL;
	unsigned long id;
	bool ok = true;

	if (!brm_creds_getpw(user, NULL, &pw, &buf))
		*uid = pw.pw_uid;
	else if (parse_id(user, &id))
		*uid = (uid_t)id;
	else
		ok = false;
	free(buf);
	return ok;
}

static int lookup_user(const char *user, struct passwd *pw, char **buf,
		       bool *found, char *err, size_t errlen)
{
	unsigned long id = 0;
	bool numeric = parse_id(user, &id);
	uid_t uid = (uid_t)id;
	int rc;

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && !numeric)
			break;
		rc = brm_creds_getpw(user, pass ? &uid : NULL, pw, buf);
		if (!rc) {
			*found = true;
			return 0;
		}
		if (rc != ENOENT)
			return brm_fail_err(err, errlen, rc, "user '%s': %s", user, strerror(rc));
	}
	*found = false;
	if (!numeric)
		return brm_fail_err(err, errlen, ENOENT, "user '%s': no such user", user);
	pw->pw_uid = uid;
	return 0;
}

static int lookup_group(const char *group, gid_t *gid, char *err, size_t errlen)
{
	size_t len = nss_bufsize(_SC_GETGR_R_SIZE_MAX);
	struct group gr, *res = NULL;
	unsigned long id;
	char *buf = NULL;
	int rc;

	for (;;) {
		buf = brm_xrealloc(buf, len);
		rc = getgrnam_r(group, &gr, buf, len, &res);
		if (rc != ERANGE || len >= (1u << 20))
			break;
		len *= 2;
	}
	if (res)
		*gid = gr.gr_gid;
	free(buf);
	if (res)
		return 0;
	if (parse_id(group, &id)) {
		*gid = (gid_t)id;
		return 0;
	}
	if (rc && rc != ENOENT && rc != ESRCH && rc != EBADF && rc != EPERM)
		return brm_fail_err(err, errlen, rc, "group '%s': %s", group, strerror(rc));
	return brm_fail_err(err, errlen, ENOENT, "group '%s': no such group", group);
}

int brm_creds_resolve(const char *user, const char *group, struct brm_creds *cr, char *err,
		      size_t errlen)
{
	struct passwd pw;
	char *pwbuf = NULL;
	bool found = false;
	int rc;

	memset(cr, 0, sizeof(*cr));
	if (!user && !group)
		return 0;

	if (group) {
		rc = lookup_group(group, &cr->gid, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (!user) {
		/* Group only: drop root's supplementary groups when we can. */
		cr->set_gid = true;
		if (geteuid() == 0) {
			cr->groups = brm_xmalloc(sizeof(gid_t));
			cr->groups[0] = cr->gid;
			cr->ngroups = 1;
			cr->set_groups = true;
		}
		return 0;
	}

	rc = lookup_user(user, &pw, &pwbuf, &found, err, errlen);
	if (rc < 0)
		goto out_free;
	cr->uid = pw.pw_uid;
	if (!group) {
		if (!found) {
			rc = brm_fail_err(err, errlen, EINVAL,
					  "user '%s': not in the user database, a group is needed",
					  user);
			goto out_free;
		}
		cr->gid = pw.pw_gid;
	}
	if (found) {
		int n = 32;

		/* The environment a login as that user would have (su, systemd's
		 * User=), unless the spec's env says otherwise. */
		cr->ident[0] = brm_xasprintf("HOME=%s", pw.pw_dir ? pw.pw_dir : "/");
		cr->ident[1] = brm_xasprintf("USER=%s", pw.pw_name);
		cr->ident[2] = brm_xasprintf("LOGNAME=%s", pw.pw_name);
		cr->ident[3] = brm_xasprintf("SHELL=%s", pw.pw_shell && *pw.pw_shell ?
					     pw.pw_shell : "/bin/sh");

		for (;;) {
			int want = n;

			cr->groups = brm_xrealloc(cr->groups, (size_t)n * sizeof(gid_t));
			if (getgrouplist(pw.pw_name, cr->gid, cr->groups, &n) >= 0)
				break;
			if (n <= want)
				n = want * 2;
			if (n > 65536) {
				rc = brm_fail_err(err, errlen, E2BIG, "user '%s': too many groups",
						  user);
				goto out_free;
			}
		}
		cr->ngroups = (size_t)n;
	} else {
		cr->groups = brm_xmalloc(sizeof(gid_t));
		cr->groups[0] = cr->gid;
		cr->ngroups = 1;
	}
	/* A daemon that is not root may "switch" to itself. */
	if (geteuid() == 0 || cr->uid != geteuid() || cr->gid != getegid()) {
		cr->set_groups = cr->set_gid = cr->set_uid = true;
	}
	rc = 0;
out_free:
	free(pwbuf);
	if (rc < 0) {
		free(cr->groups);
		cr->groups = NULL;
		for (size_t i = 0; cr->ident[i]; i++) {
			free(cr->ident[i]);
			cr->ident[i] = NULL;
		}
	}
	return rc;
}
