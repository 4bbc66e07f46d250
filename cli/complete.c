/*
 * complete.c — shell completion: `brummctl completion bash|zsh|fish`
 * prints a script, and the script asks `brummctl __complete CWORD WORDS...`
 * for the candidates each time TAB is pressed.
 *
 * The scripts are thin on purpose: every rule (which commands exist, which
 * options a command takes and which of them take a value, where process
 * names go and where a signal does) is read here from the tables of args.c
 * that parse the real command line, so completion cannot drift from it.
 * A script only turns the kinds a shell knows better (":file", ":dir",
 * ":command", ":user", ":group") into its own completions.
 *
 * Process names come from the running brummd, through one plain `status`
 * on the socket that --socket (earlier on the line), $BRUMMD_SOCKET or the
 * default names. Completion must never write into the user's prompt:
 * stderr goes to /dev/null, the exit code is always 0, and an alarm ends a
 * call to a brummd that does not answer.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"
#include "lib/client.h"
#include "lib/procstate.h"
#include "lib/signame.h"

/* ---- the scripts ---------------------------------------------------------- */

static const char bash_script[] =
	"# bash completion for brummctl, made by 'brummctl completion bash'\n"
	"_brummctl()\n"
	"{\n"
	"\tlocal ctl=brummctl line words cur pre i\n"
	"\t# The words up to the cursor split at blanks only: bash also splits\n"
	"\t# at ':' (COMP_WORDBREAKS), which would cut worker:0 in two.\n"
	"\tread -ra words <<< \"${COMP_LINE:0:COMP_POINT}\"\n"
	"\t[[ -z ${COMP_LINE:0:COMP_POINT} || ${COMP_LINE:0:COMP_POINT} == *[[:blank:]] ]] && words+=('')\n"
	"\tcur=${words[${#words[@]}-1]}\n"
	"\t[[ ${words[0]} == */* && -x ${words[0]} ]] && ctl=${words[0]}\n"
	"\tCOMPREPLY=()\n"
	"\twhile IFS= read -r line; do\n"
	"\t\tcase $line in\n"
	"\t\t:file) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- \"$cur\")) ;;\n"
	"\t\t:dir) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- \"$cur\")) ;;\n"
	"\t\t:command) COMPREPLY+=($(compgen -c -- \"$cur\")) ;;\n"
	"\t\t:user) COMPREPLY+=($(compgen -u -- \"$cur\")) ;;\n"
	"\t\t:group) COMPREPLY+=($(compgen -g -- \"$cur\")) ;;\n"
	"\t\t?*) COMPREPLY+=(\"$line\") ;;\n"
	"\t\tesac\n"
	"\tdone < <(command \"$ctl\" __complete \"$((${#words[@]}-1))\" \"${words[@]}\" 2>/dev/null)\n"
	"\t# bash replaces only what follows the word's last ':'\n"
	"\tif [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then\n"
	"\t\tpre=${cur%\"${cur##*:}\"}\n"
	"\t\tfor i in \"${!COMPREPLY[@]}\"; do COMPREPLY[i]=${COMPREPLY[i]#\"$pre\"}; done\n"
	"\tfi\n"
	"\treturn 0\n"
	"}\n"
	"complete -F _brummctl brummctl\n";

static const char zsh_script[] =
	"#compdef brummctl\n"
	"# zsh completion for brummctl, made by 'brummctl completion zsh'\n"
	"_brummctl()\n"
	"{\n"
	"\tlocal line ctl=brummctl\n"
	"\tlocal -a cands\n"
	"\t[[ ${words[1]} == */* && -x ${words[1]} ]] && ctl=${words[1]}\n"
	"\tfor line in \"${(@f)$(command $ctl __complete $((CURRENT - 1)) \"${words[@]}\" 2>/dev/null)}\"; do\n"
	"\t\tcase $line in\n"
	"\t\t(:file) _files ;;\n"
	"\t\t(:dir) _files -/ ;;\n"
	"\t\t(:command) _command_names -e ;;\n"
	"\t\t(:user) _users ;;\n"
	"\t\t(:group) _groups ;;\n"
	"\t\t(?*) cands+=(\"$line\") ;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\t(( ${#cands} )) && compadd -a cands\n"
	"\treturn 0\n"
	"}\n"
	"if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n"
	"\t_brummctl \"$@\"\n"
	"else\n"
	"\tcompdef _brummctl brummctl\n"
	"fi\n";

static const char fish_script[] =
	"# fish completion for brummctl, made by 'brummctl completion fish'\n"
	"function __brummctl_complete\n"
	"    set -l words (commandline -opc) (commandline -ct)\n"
	"    set -l cword (math (count $words) - 1)\n"
	"    set -l cur (commandline -ct)\n"
	"    for line in (command brummctl __complete $cword $words 2>/dev/null)\n"
	"        switch $line\n"
	"            case :file\n"
	"                __fish_complete_path $cur\n"
	"            case :dir\n"
	"                __fish_complete_directories $cur\n"
	"            case :command\n"
	"                complete -C \"$cur\"\n"
	"            case :user\n"
	"                __fish_complete_users\n"
	"            case :group\n"
	"                __fish_complete_groups\n"
	"            case '*'\n"
	"                echo $line\n"
	"        end\n"
	"    end\n"
	"end\n"
	"complete -c brummctl -f -a '(__brummctl_complete)'\n";

int cli_completion_script(FILE *f, const char *shell)
{
	if (!strcmp(shell, "bash"))
		fputs(bash_script, f);
	else if (!strcmp(shell, "zsh"))
		fputs(zsh_script, f);
	else if (!strcmp(shell, "fish"))
		fputs(fish_script, f);
	else
		return -1;
	return 0;
}

/* ---- the candidates ------------------------------------------------------- */

/* Print @word when it starts with @cur. */
static void offer(const char *cur, const char *word)
{
	if (!strncmp(word, cur, strlen(cur)))
		puts(word);
}

/* The option @w names ("--name", "--name=V", "-s", "-n5") for @cmd, or false. */
static bool lookup_opt(const char *w, const struct cli_command *cmd, struct cli_option *out)
{
	struct cli_option o;
	bool applies, found = false;

	for (size_t i = 0; cli_option_at(i, cmd, &o, &applies); i++) {
		if (!applies)
			continue;
		if (w[1] == '-') {
			size_t len = strcspn(w + 2, "=");

			if (strlen(o.name) != len || memcmp(o.name, w + 2, len))
				continue;
		} else if (!o.short_name || o.short_name != w[1]) {
			continue;
		}
		*out = o;
		found = true;
	}
	return found;
}

/* A value of @opt: a kind for the script, or the words that match @cur. */
static void offer_values(const struct cli_option *opt, const char *cur)
{
	const char *v = opt->values;

	if (!v)
		return;
	if (!strcmp(v, CLI_VALUES_SIGNAL)) {
		for (int s = 1; s < NSIG; s++)
			if (brm_signal_name(s))
				offer(cur, brm_signal_name(s));
	} else if (!strcmp(v, CLI_VALUES_STATE)) {
		for (int s = 0; s < BRM_STATE_COUNT; s++)
			offer(cur, brm_state_name(s));
	} else if (v[0] == ':') {
		puts(v);
	} else {
		char *words = strdup(v), *save = NULL;

		if (!words)
			return;
		for (char *t = strtok_r(words, " ", &save); t; t = strtok_r(NULL, " ", &save))
			offer(cur, t);
		free(words);
	}
}

/* The processes of the running brummd at @socket that start with @cur. */
/* -H or $BRUMMD_HOST on the line: the names would be another host's,
 * and asking for them takes ssh, which may prompt: none are offered. */
static bool names_remote;

static void offer_names(const char *socket, const char *cur)
{
	struct brm_rpc_err err = BRM_RPC_ERR_INIT;
	struct brm_client *c;
	cJSON *result = NULL, *procs, *p;
	char *path, *msg = NULL;
	const char *env = getenv("BRUMMD_HOST");

	if (names_remote || (env && *env))
		return;
	path = brm_socket_resolve(socket);

	c = brm_client_connect(path, &msg);
	if (!c)
		goto out_free_path;
	alarm(2);   /* a brummd that does not answer must not hang the prompt */
	if (brm_client_call(c, "status", NULL, &result, &err) == 0) {
		procs = cJSON_GetObjectItemCaseSensitive(result, "processes");
		cJSON_ArrayForEach(p, procs) {
			const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");

			if (cJSON_IsString(name))
				offer(cur, name->valuestring);
		}
	}
	alarm(0);
	cJSON_Delete(result);
	brm_rpc_err_finish(&err);
	brm_client_destroy(c);
out_free_path:
	free(msg);
	free(path);
}

/* What the words before the current one say. */
struct line {
	const struct cli_command *cmd;
	const char *socket;
	bool remote;                        /* -H or $BRUMMD_HOST: names are not ours */
	const struct cli_option *pending;  /* the word before wants this option's value */
	struct cli_option pending_opt;
	bool all, dashdash;
	bool bad;                           /* a word that is no command: offer nothing */
	bool help, completion;              /* the words of `help` and `completion` */
	bool import;                        /* `import` (import.c parses it) */
	int import_pending;                 /* 1: after --from, 2: after -o */
	size_t npos;                        /* positional words after the command */
	size_t nafter;                      /* words after "--" */
};

static void scan(struct line *l, char **words, int cword)
{
	struct cli_option o;

	memset(l, 0, sizeof(*l));
	for (int i = 1; i < cword; i++) {
		const char *w = words[i];

		l->pending = NULL;
		l->import_pending = 0;
		if (l->import) {
			int v = !strcmp(w, "--from") ? 1 : !strcmp(w, "-o") || !strcmp(w, "--output") ? 2 : 0;

			if (v && i + 1 < cword)
				i++;
			else if (v)
				l->import_pending = v;
			else if (w[0] != '-')
				l->npos++;
			continue;
		}
		if (l->dashdash) {
			l->nafter++;
		} else if (!strcmp(w, "--")) {
			l->dashdash = l->cmd != NULL;
		} else if (w[0] == '-' && w[1] && lookup_opt(w, l->cmd, &o)) {
			const char *value = NULL;
			bool inline_value = w[1] == '-' ? strchr(w, '=') != NULL : w[2] != '\0';

			if (o.has_arg && inline_value) {
				value = w[1] == '-' ? strchr(w, '=') + 1 : w + 2;
			} else if (o.has_arg) {
				/* bash splits "--socket=PATH" at '=' */
				if (i + 1 < cword && !strcmp(words[i + 1], "="))
					i++;
				if (i + 1 < cword) {
					value = words[++i];
				} else {
					l->pending_opt = o;
					l->pending = &l->pending_opt;
				}
			}
			if (!strcmp(o.name, "socket") && value)
				l->socket = value;
			if (!strcmp(o.name, "host"))
				l->remote = true;
			if (!strcmp(o.name, "all"))
				l->all = true;
		} else if (w[0] == '-' && w[1]) {
			continue;   /* an unknown option: nothing to learn from it */
		} else if (!l->cmd && !l->help && !l->completion) {
			l->cmd = cli_command_find(w);
			l->help = !strcmp(w, "help");
			l->completion = !strcmp(w, "completion");
			l->import = !strcmp(w, "import");
			if (!l->cmd && !l->help && !l->completion && !l->import) {
				l->bad = true;
				return;
			}
		} else {
			l->npos++;
		}
	}
}

static void offer_commands(const char *cur)
{
	const struct cli_command *c;

	for (size_t i = 0; (c = cli_command_at(i)); i++)
		offer(cur, c->name);
	offer(cur, "help");
	offer(cur, "completion");
	offer(cur, "import");
	offer(cur, "dial-stdio");
	offer(cur, "init");
}

static void offer_options(const struct cli_command *cmd, const char *cur)
{
	struct cli_option o;
	bool applies;

	for (size_t i = 0; cli_option_at(i, cmd, &o, &applies); i++) {
		char long_name[64];

		if (!applies)
			continue;
		snprintf(long_name, sizeof(long_name), "--%s", o.name);
		offer(cur, long_name);
	}
}

/* The positional word @l->npos of @l->cmd. */
static void offer_args(const struct line *l, const char *cur)
{
	switch (l->cmd->args) {
	case ARGS_NONE:
	case ARGS_NEW:
		break;
	case ARGS_NAME:
		if (l->npos == 0)
			offer_names(l->socket, cur);
		break;
	case ARGS_NAMES:
		offer_names(l->socket, cur);
		break;
	case ARGS_NAMES_SIG: {
		/* NAME... SIG: after a name, the signal or another name. */
		struct cli_option sig = { .values = CLI_VALUES_SIGNAL };

		if (l->all) {
			if (l->npos == 0)
				offer_values(&sig, cur);
			break;
		}
		if (l->npos > 0)
			offer_values(&sig, cur);
		offer_names(l->socket, cur);
		break;
	}
	}
}

int cli_complete(int argc, char **argv)
{
	struct line l;
	const char *cur;
	char **words;
	int cword, fd;

	/* Nothing may reach the prompt but the candidates. */
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	if (argc < 2)
		return 0;
	cword = atoi(argv[0]);
	words = argv + 1;
	if (cword < 1 || cword > argc - 1)
		return 0;
	cur = cword < argc - 1 ? words[cword] : "";
	scan(&l, words, cword);
	names_remote = l.remote;
	/* bash splits "--since=TIME" at '=': the value of the option before it */
	if (!l.pending && cword >= 2 && !strcmp(words[cword - 1], "=") &&
	    words[cword - 2][0] == '-' && lookup_opt(words[cword - 2], l.cmd, &l.pending_opt) &&
	    l.pending_opt.has_arg)
		l.pending = &l.pending_opt;
	if (!strcmp(cur, "="))
		cur = "";

	if (l.import) {
		if (l.import_pending == 1) {
			offer(cur, "pm2");
			offer(cur, "procfile");
			offer(cur, "supervisord");
		} else if (cur[0] == '-' && !l.import_pending) {
			offer(cur, "--force");
			offer(cur, "--from");
			offer(cur, "--help");
			offer(cur, "--output");
		} else if (l.import_pending || l.npos == 0) {
			puts(":file");
		}
	} else if (l.pending) {
		offer_values(l.pending, cur);
	} else if (l.dashdash) {
		if (l.cmd->id != CMD_ADD)
			offer_names(l.socket, cur);
		else
			puts(l.nafter == 0 ? ":command" : ":file");
	} else if (cur[0] == '-') {
		offer_options(l.cmd, cur);
	} else if (l.bad || (l.npos > 0 && (l.help || l.completion))) {
		;
	} else if (l.help) {
		offer_commands(cur);
	} else if (l.completion) {
		offer(cur, "bash");
		offer(cur, "fish");
		offer(cur, "zsh");
	} else if (!l.cmd) {
		offer_commands(cur);
	} else {
		offer_args(&l, cur);
	}
	fflush(stdout);
	return 0;
}
