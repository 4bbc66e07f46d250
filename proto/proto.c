/*
 * proto.c — states, names and signals shared by daemon and clients.
 */
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/proto.h"
#include "lib/util.h"

static const char *const state_names[BRM_STATE_COUNT] = {
	[BRM_STOPPED] = "stopped",
	[BRM_STARTING] = "starting",
	[BRM_RUNNING] = "running",
	[BRM_BACKOFF] = "backoff",
	[BRM_STOPPING] = "stopping",
	[BRM_EXITED] = "exited",
	[BRM_FATAL] = "fatal",
	[BRM_WAITING] = "waiting",
};

const char *brm_state_name(enum brm_state s)
{
	if ((unsigned)s >= BRM_STATE_COUNT)
		return "unknown";
	return state_names[s];
}

int brm_state_parse(const char *name)
{
	for (int i = 0; i < BRM_STATE_COUNT; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

bool brm_name_valid(const char *name)
{
	size_t n = 0;

	if (!name || !name[0] || name[0] == '.' || name[0] == '-')
		return false;
	for (; name[n]; n++) {
		unsigned char c = (unsigned char)name[n];
		if (n >= BRM_MAX_NAME_LEN)
			return false;
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':' || c == '@'))
			return false;
	}
	return true;
}

static const struct {
	const char *name;
	int signo;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS },   { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG },   { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO },     { "PWR", SIGPWR },   { "SYS", SIGSYS },
};

int brm_signal_parse(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	if (isdigit((unsigned char)s[0])) {
		v = strtol(s, &end, 10);
		if (*end || v < 1 || v >= NSIG)
			return -1;
		return (int)v;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < BRM_ARRAY_SIZE(signals); i++)
		if (strcasecmp(signals[i].name, s) == 0)
			return signals[i].signo;
	return -1;
}

const char *brm_signal_name(int signo)
{
	for (size_t i = 0; i < BRM_ARRAY_SIZE(signals); i++)
		if (signals[i].signo == signo)
			return signals[i].name;
	return NULL;
}
