/*
 * test_completion.c — shell completion against a real brummd: bash sources
 * `brummctl completion bash`, fills COMP_WORDS and COMP_CWORD as it would
 * for a typed line, calls the completion function and prints COMPREPLY,
 * which must be exactly the expected set (commands, a command's options,
 * process names over --socket, signals after a name). With brummd gone,
 * completing names offers nothing, quietly. zsh and fish, when installed,
 * load their scripts (fish also completes a line); else SKIP.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/util.h"
#include "tests/e2e.h"
#include "tests/harness.h"
#include "tests/suite.h"

static struct brmh H;

/* lib/signame.c's names, in the order `sort` gives them. */
#define SIGNALS "ABRT\nALRM\nBUS\nCHLD\nCONT\nFPE\nHUP\nILL\nINT\nIO\nKILL\nPIPE\nPROF\n" \
	"PWR\nQUIT\nSEGV\nSTOP\nSYS\nTERM\nTRAP\nTSTP\nTTIN\nTTOU\nURG\nUSR1\nUSR2\n" \
	"VTALRM\nWINCH\nXCPU\nXFSZ\n"

/* bash: the words of $LINE (a trailing space starts an empty word), then
 * the completion function, then COMPREPLY sorted, one a line. */
static const char bash_driver[] =
	"source <(brummctl completion bash) || exit 9\n"
	"COMP_LINE=$LINE; COMP_POINT=${#LINE}\n"
	"read -ra COMP_WORDS <<< \"$LINE\"\n"
	"[[ $LINE == *' ' ]] && COMP_WORDS+=('')\n"
	"COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
	"_brummctl brummctl \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\" || exit 8\n"
	"(( ${#COMPREPLY[@]} )) && printf '%s\\n' \"${COMPREPLY[@]}\" | LC_ALL=C sort\n"
	"exit 0\n";

static void start_three(void)
{
	brmh_check_start(&H,
		"{\"processes\":{"
		"\"web\":{\"cmd\":[\"%s\",\"sleep\",\"60\"]},"
		"\"worker\":{\"cmd\":[\"%s\",\"sleep\",\"60\"]},"
		"\"db\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"autostart\":false}}}",
		brmh_child(), brmh_child(), brmh_child());
}

/* PATH with the brummctl under test first, and BRUMMD_SOCKET at @sock. */
static void env_for(const char *sock)
{
	char *dir = brm_xstrdup(brmh_bin("brummctl"));
	char *path;

	*strrchr(dir, '/') = '\0';
	path = brm_xasprintf("%s:%s", dir, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	setenv("BRUMMD_SOCKET", sock, 1);
	free(path);
	free(dir);
}

/*
 * Run @shell_cmd (a shell command line reading $SCRIPT and $LINE) with
 * @line; its stdout, and its stderr in *@err; asserts it exits 0.
 */
static char *run_shell(const char *shell_cmd, const char *script, const char *line, char **err)
{
	char errpath[] = "/tmp/brm-test-completion.XXXXXX";
	struct brm_buf b = BRM_BUF_INIT;
	char chunk[4096], *cmd;
	size_t n;
	FILE *p;
	int fd = mkstemp(errpath), rc;

	ck_assert_int_ge(fd, 0);
	close(fd);
	setenv("SCRIPT", script, 1);
	setenv("LINE", line, 1);
	cmd = brm_xasprintf("%s 2>%s", shell_cmd, errpath);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		brm_buf_add(&b, chunk, n);
	rc = pclose(p);
	*err = brmh_read_file(errpath);
	unlink(errpath);
	free(cmd);
	ck_assert_msg(rc == 0, "'%s' for '%s': status %d, stderr: %s", shell_cmd, line, rc,
		      *err ? *err : "");
	return brm_buf_detach(&b);
}

/* Complete @line in bash; assert exactly @want (sorted, one a line) and a
 * quiet stderr. */
static void expect(const char *line, const char *want)
{
	char *err = NULL, *out = run_shell("bash -c \"$SCRIPT\"", bash_driver, line, &err);

	ck_assert_msg(!strcmp(out, want), "completing '%s': got\n%s\nwant\n%s", line, out, want);
	ck_assert_msg(err && !err[0], "completing '%s' wrote to stderr: %s", line, err);
	free(out);
	free(err);
}

START_TEST(commands_options_names_signals)
{
	char *line;

	start_three();
	env_for(H.sock);
	expect("brummctl st", "start\nstatus\nstop\n");
	expect("brummctl ", "add\ncompletion\ndial-stdio\nerrors\nevents\nhelp\nimport\ninit\nlog\nlogs\n"
	       "mcp\nmetrics\nping\nreload\nremove\nrestart\nrun\nshutdown\nsignal\nstart\nstatus\nstop\n"
	       "top\nurls\nwait\n");
	expect("brummctl restart w", "web\nworker\n");
	expect("brummctl import --", "--force\n--from\n--help\n--output\n");
	expect("brummctl import --from ", "pm2\nprocfile\nsupervisord\n");
	expect("brummctl stop --all --no-wait w", "web\nworker\n");
	expect("brummctl logs --", "--follow\n--grep\n--help\n--host\n--json\n--lines\n--no-color\n"
	       "--reopen\n--since\n--since-seq\n--socket\n--stderr\n--stdout\n--version\n");
	expect("brummctl mcp --", "--allow-changes\n--help\n--host\n--json\n--no-color\n--socket\n"
	       "--start\n--version\n");
	expect("brummctl signal web ", SIGNALS "db\nweb\nworker\n");
	expect("brummctl signal ", "db\nweb\nworker\n");
	expect("brummctl signal --all T", "TERM\nTRAP\nTSTP\nTTIN\nTTOU\n");
	expect("brummctl wait web --state r", "running\n");
	expect("brummctl add api --restart ", "always\nnever\non-failure\n");
	expect("brummctl remove web ", "");
	/* Another host's names would take ssh at the prompt: none. */
	expect("brummctl -H ssh://web1 restart w", "");
	expect("brummctl ping ", "");
	expect("brummctl completion ", "bash\nfish\nzsh\n");
	/* --socket earlier on the line beats $BRUMMD_SOCKET */
	setenv("BRUMMD_SOCKET", "/nonexistent/brm.sock", 1);
	expect("brummctl restart w", "");
	line = brm_xasprintf("brummctl --socket %s logs d", H.sock);
	expect(line, "db\n");
	free(line);
	line = brm_xasprintf("brummctl status -s %s ", H.sock);
	expect(line, "db\nweb\nworker\n");
	free(line);
	brmh_check_stop(&H);
}
END_TEST

/* Completion never writes an error into the prompt. */
START_TEST(names_without_brummd_are_quiet)
{
	start_three();
	env_for(H.sock);
	expect("brummctl status w", "web\nworker\n");
	brmh_check_stop(&H);
	expect("brummctl status w", "");
	expect("brummctl restart ", "");
	expect("brummctl --socket /nonexistent/x.sock logs ", "");
	expect("brummctl st", "start\nstatus\nstop\n");
}
END_TEST

/*
 * In a real interactive bash (in tmux), where ':' breaks words
 * (COMP_WORDBREAKS): "app:g" + Tab completes to "app:green"; the reply
 * the script gives bash is what follows the ':'.
 */
START_TEST(names_with_a_colon_in_real_bash)
{
	char dir[256], *cmd, *scr = NULL;
	int rc;

	brmh_check_start(&H, "{\"processes\":{"
		"\"app:green\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"autostart\":false},"
		"\"app:blue\":{\"cmd\":[\"%s\",\"sleep\",\"60\"],\"autostart\":false}}}",
		brmh_child(), brmh_child());
	env_for(H.sock);
	/* bash puts a reply in place of what follows the word's last ':' */
	expect("brummctl stop app:g", "green\n");
	if (system("command -v tmux >/dev/null 2>&1") != 0) {
		puts("SKIP: test_completion: tmux is not installed (scripts/deps.sh installs it)");
		brmh_check_stop(&H);
		return;
	}
	ck_assert_ptr_nonnull(brmh_tmpdir(dir, sizeof(dir), "brmcomp"));
	cmd = brm_xasprintf("tmux -S '%s/t.sock' -f /dev/null new-session -d -x 100 -y 10 -s c "
			    "'env -i PATH=\"%s\" BRUMMD_SOCKET=\"%s\" TERM=xterm PS1=\"$ \" "
			    "bash --norc --noprofile -i' >/dev/null 2>&1", dir, getenv("PATH"), H.sock);
	rc = system(cmd);
	free(cmd);
	ck_assert_int_eq(rc, 0);
	cmd = brm_xasprintf("tmux -S '%s/t.sock' send-keys -t c 'source <(brummctl completion bash)'"
			    " Enter 'brummctl stop app:g' Tab >/dev/null 2>&1", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	cmd = brm_xasprintf("tmux -S '%s/t.sock' capture-pane -p -t c 2>/dev/null", dir);
	for (int i = 0; i < 500; i++) {
		FILE *p = popen(cmd, "r");
		char buf[4096];
		size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;

		if (p)
			pclose(p);
		buf[n] = '\0';
		free(scr);
		scr = brm_xstrdup(buf);
		if (strstr(scr, "brummctl stop app:green"))
			break;
		brmh_sleep_ms(20);
	}
	free(cmd);
	cmd = brm_xasprintf("tmux -S '%s/t.sock' kill-server >/dev/null 2>&1", dir);
	(void)!system(cmd);
	free(cmd);
	ck_assert_msg(strstr(scr, "brummctl stop app:green"), "the screen:\n%s", scr);
	free(scr);
	brmh_check_stop(&H);
}
END_TEST

START_TEST(zsh_and_fish_load)
{
	char *out, *err;

	env_for("/nonexistent/brm.sock");
	if (system("command -v zsh >/dev/null 2>&1") == 0) {
		out = run_shell("zsh -f -c \"$SCRIPT\"",
				"autoload -U compinit; compinit -u -D; "
				"source <(brummctl completion zsh); "
				"(( $+functions[_brummctl] )) && print -r -- ok", "", &err);
		ck_assert_str_eq(out, "ok\n");
		ck_assert_msg(!err[0], "zsh: %s", err);
		free(out);
		free(err);
	} else {
		puts("SKIP: test_completion: zsh is not installed (apt-get install zsh)");
	}
	if (system("command -v fish >/dev/null 2>&1") == 0) {
		out = run_shell("fish --no-config -c \"$SCRIPT\"",
				"brummctl completion fish | source; complete -C 'brummctl st'",
				"", &err);
		ck_assert_msg(strstr(out, "start") && strstr(out, "status") && strstr(out, "stop") &&
			      !strstr(out, "shutdown"), "fish: %s", out);
		ck_assert_msg(!err[0], "fish: %s", err);
		free(out);
		free(err);
	} else {
		puts("SKIP: test_completion: fish is not installed (apt-get install fish)");
	}
}
END_TEST

BRM_TEST_CASE("completion", "completion", 60, commands_options_names_signals,
	      names_with_a_colon_in_real_bash,
	      names_without_brummd_are_quiet, zsh_and_fish_load);
