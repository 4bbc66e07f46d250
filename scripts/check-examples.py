#!/usr/bin/env python3
"""Run every example of README.md and the man pages (make examples; make check).

Each example block must be preceded by a marker saying how to check it:

  README.md   <!-- example: KIND [OPTIONS] -->   before a ``` fenced block
  man/*.[158] .\\" example: KIND [OPTIONS]        before .EX/.EE or .nf/.fi
              (requests such as .IP, .PP, .RS may stand between them)

An unmarked block, a marker without a block and an unknown KIND or option
are errors. OPTIONS are shell words (quote values with spaces).

KIND
  config   the block is a brummd.json: checked with bin/brummd --check-config,
           which must pass. Options: name=NAME (a session can use it by
           name), process (the block is one process spec: it is checked
           as {"processes": {"example": BLOCK}}).
  session  a transcript: lines "$ COMMAND" (a trailing \\ continues one),
           each followed by the output it shows, if any. A real brummd is
           started first, as `make run` would (./run/brummd.sock, state in
           ./run/state, $BRUMMD_SOCKET set; XDG_RUNTIME_DIR unset, as for
           root), in a scratch directory where bin/ is this checkout's bin/
           and PATH finds brummd and brummctl. Each command runs with sh -c
           (earlier `export` lines carried over) and must exit 0; a command
           that follows (-f, --follow, events without --count) is stopped
           after a moment. A session that begins with `make run` starts
           brummd through `make run` itself (RUNDIR in the scratch
           directory) and checks that it says where its socket is and keeps
           its state there; SAN and DEVELOPER come from the environment, as
           make check and make examples set them, so that `make run` finds
           bin/ built with the flags it was (else it rebuilds: Makefile,
           $(OBJDIR)/.cflags).
  output   the block is the output of the command given with cmd='...',
           run in the same setting as a session's.
  usage    command lines or synopses checked against the real CLIs: a
           brummctl command line must get past brummctl's own parser (it
           is run against a socket that does not exist: exit 3, not 2); in
           a synopsis (placeholders, [...], a|b) every command name and
           option must be one brummctl or brummd documents in --help; make
           targets must exist in the Makefile, scripts in the tree, and
           systemd units in systemd/.
  skip     not run: the reason is required (`skip: needs systemd`).

Options of session and output:
  config=NAME|PATH   start brummd with -c: a config block's name=NAME, or a
                     file of this tree (tests/examples/ holds fixtures)
  files=PATH[,PATH]  copy these files of the tree into the scratch directory
  nodaemon           start no brummd
  port=N             the literal number N (a fixed port in the text) is
                     replaced by a free port in commands and output
  retry              run the command again, for a few seconds, until its output
                     matches (a read-only brummctl command is retried anyway)
  rc=N               the expected exit status of the command (output) or of
                     the last command (session; the others must exit 0)
  tty                stdout of each command is a terminal (NO_COLOR=1)

Output shown after a command (or an output block) is compared after
removing escape sequences, turning each run of digits into 0 and of blanks
into one space: a table (its first line all upper-case words) must have the
same header and the names shown in its first column, in order; JSON lines ("{...")
must have their keys among those of a line of the real output; any other
line must appear in the real output (lines left out, "..." lines and
another order are allowed: the format is pinned, not the sequence).

Usage: scripts/check-examples.py [-v] [FILE...]   (default: README.md man/*)
"""

import concurrent.futures
import glob
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, os.environ.get("BINOUT", "bin"))
KINDS = ("config", "session", "output", "usage", "skip")
FOLLOW_SECS = 0.8       # how long a following command runs before it is stopped
COMMAND_SECS = 15       # any other command
RETRY_SECS = 3          # a read-only command whose output does not match yet
VERBOSE = False
JOBS = 4                # examples checked at once


class Fail(Exception):
    pass


class Block:
    def __init__(self, path, line, kind, opts, text, skip_reason=None):
        self.path, self.line, self.kind, self.opts = path, line, kind, opts
        self.text, self.skip_reason = text, skip_reason

    def where(self):
        return "%s:%d" % (os.path.relpath(self.path, ROOT), self.line)


# ---- finding the blocks ---------------------------------------------------

MARK_MD = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->\s*$")
MARK_MAN = re.compile(r'^\.\\"\s*example:\s*(.*?)\s*$')


def parse_marker(path, line, text):
    """KIND [OPTIONS] -> (kind, opts, skip reason); raises Fail."""
    where = "%s:%d" % (os.path.relpath(path, ROOT), line)
    m = re.match(r"skip\s*:\s*(.*)$", text)
    if m:
        if not m.group(1).strip():
            raise Fail("%s: 'skip' needs a reason: 'skip: needs systemd'" % where)
        return "skip", {}, m.group(1).strip()
    if text.startswith("skip"):
        raise Fail("%s: 'skip' needs a reason after a colon: 'skip: needs systemd'" % where)
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise Fail("%s: marker '%s': %s" % (where, text, e))
    if not words or words[0] not in KINDS:
        raise Fail("%s: marker '%s': the kind must be one of %s"
                   % (where, text, ", ".join(KINDS)))
    kind, opts = words[0], {}
    allowed = {"config": {"name", "process"},
               "session": {"config", "files", "nodaemon", "port", "rc", "tty"},
               "output": {"cmd", "config", "files", "nodaemon", "port", "rc", "retry", "tty"},
               "usage": set()}[kind]
    for w in words[1:]:
        k, eq, v = w.partition("=")
        if k not in allowed:
            raise Fail("%s: marker '%s': '%s' is not an option of %s (%s)"
                       % (where, text, k, kind, ", ".join(sorted(allowed)) or "none"))
        opts[k] = v if eq else True
    if kind == "output" and not isinstance(opts.get("cmd"), str):
        raise Fail("%s: an output example needs cmd='COMMAND' (the command whose"
                   " output it shows)" % where)
    return kind, opts, None


def blocks_md(path, errors):
    lines = open(path, encoding="utf-8").read().split("\n")
    out, pending, i = [], None, 0
    while i < len(lines):
        ln = lines[i]
        m = MARK_MD.match(ln)
        if m:
            if pending:
                raise Fail("%s:%d: marker without a block after it"
                           % (os.path.relpath(path, ROOT), pending[0]))
            pending = (i + 1, m.group(1))
            i += 1
            continue
        fence = re.match(r"^(```+|~~~+)", ln)
        if fence:
            start, close = i + 1, fence.group(1)
            j = i + 1
            while j < len(lines) and not lines[j].startswith(close):
                j += 1
            if j == len(lines):
                raise Fail("%s:%d: fenced block is not closed"
                           % (os.path.relpath(path, ROOT), start))
            if not pending:
                errors.append("%s:%d: example block without a marker: put"
                              " '<!-- example: KIND -->' before it (KIND: %s)"
                              % (os.path.relpath(path, ROOT), start, " | ".join(KINDS)))
            else:
                try:
                    kind, opts, reason = parse_marker(path, pending[0], pending[1])
                    out.append(Block(path, start, kind, opts, "\n".join(lines[i + 1:j]),
                                     reason))
                except Fail as e:
                    errors.append(str(e))
            pending, i = None, j + 1
            continue
        if pending and ln.strip():
            raise Fail("%s:%d: marker without a block right after it"
                       % (os.path.relpath(path, ROOT), pending[0]))
        i += 1
    if pending:
        raise Fail("%s:%d: marker without a block after it"
                   % (os.path.relpath(path, ROOT), pending[0]))
    return out


ROFF_ESC = [(r"\-", "-"), (r"\(aq", "'"), (r"\(dq", '"'), (r"\(rs", "\\"),
            (r"\(ti", "~"), (r"\(ha", "^"), (r"\(em", "--"), (r"\(en", "-"),
            (r"\(bu", "*"), (r"\(mu", "x"), (r"\~", " "), (r"\ ", " "),
            (r"\&", ""), (r"\c", ""), (r"\e", "\\")]


def unroff(s):
    s = re.sub(r"\\f[BIRP]|\\f\(\w\w|\\f\[\w*\]", "", s)
    for a, b in ROFF_ESC:
        s = s.replace(a, b)
    return s


def blocks_man(path, errors):
    lines = open(path, encoding="utf-8").read().split("\n")
    out, pending = [], None
    i = 0
    while i < len(lines):
        ln = lines[i]
        m = MARK_MAN.match(ln)
        if m:
            if pending:
                raise Fail("%s:%d: marker without a block after it"
                           % (os.path.relpath(path, ROOT), pending[0]))
            pending = (i + 1, unroff(m.group(1)))
            i += 1
            continue
        if ln in (".EX", ".nf"):
            end = ".EE" if ln == ".EX" else ".fi"
            j = i + 1
            while j < len(lines) and lines[j] != end:
                j += 1
            if j == len(lines):
                raise Fail("%s:%d: %s without %s" % (os.path.relpath(path, ROOT), i + 1, ln, end))
            if not pending:
                errors.append("%s:%d: example block without a marker: put"
                              " '.\\\" example: KIND' before it (KIND: %s)"
                              % (os.path.relpath(path, ROOT), i + 1, " | ".join(KINDS)))
            else:
                try:
                    kind, opts, reason = parse_marker(path, pending[0], pending[1])
                    body = [unroff(x) for x in lines[i + 1:j] if not x.startswith('.\\"')]
                    out.append(Block(path, i + 1, kind, opts, "\n".join(body), reason))
                except Fail as e:
                    errors.append(str(e))
            pending, i = None, j + 1
            continue
        # Between a marker and its block: paragraph requests only.
        if pending and not re.match(r"^\.(PP|LP|P|IP|RS|RE|in|sp|br)?(\s.*)?$", ln):
            raise Fail("%s:%d: marker without a block right after it"
                       % (os.path.relpath(path, ROOT), pending[0]))
        i += 1
    if pending:
        raise Fail("%s:%d: marker without a block after it"
                   % (os.path.relpath(path, ROOT), pending[0]))
    return out


# ---- config ---------------------------------------------------------------

def config_text(b):
    text = b.text
    if b.opts.get("process"):
        t = text.strip()
        if not t.startswith("{"):
            t = "{" + t + "}"
        text = '{"processes": {"example": %s\n}}' % t
    return text


def check_config(b, tmp):
    fd, f = tempfile.mkstemp(prefix="config-", suffix=".json", dir=tmp)
    with os.fdopen(fd, "w") as fh:
        fh.write(config_text(b))
    r = subprocess.run([os.path.join(BIN, "brummd"), "--check-config", f],
                       capture_output=True, text=True, timeout=COMMAND_SECS)
    if r.returncode != 0:
        raise Fail("brummd --check-config rejects it (exit %d):\n%s"
                   % (r.returncode, (r.stdout + r.stderr).replace(f, "CONFIG")))


# ---- comparing output -----------------------------------------------------

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def norm(s):
    s = ANSI.sub("", s).replace("\r", "")
    s = re.sub(r"\d+", "0", s)
    return re.sub(r"\s+", " ", s).strip()


def is_header(line):
    words = line.split()
    return len(words) >= 2 and all(re.fullmatch(r"[A-Z][A-Z_%]*", w) for w in words)


def json_keys(line):
    try:
        obj = json.loads(line)
    except ValueError:
        return set(re.findall(r'"([A-Za-z_][A-Za-z_0-9]*)"\s*[:,}]', line))
    keys = set()

    def walk(o):
        if isinstance(o, dict):
            for k, v in o.items():
                keys.add(k)
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(obj)
    return keys


def compare(expected, actual, stderr=""):
    """None when @actual (stdout) and @stderr show what @expected (lines)
    shows, else why not. A table is looked for on stdout only."""
    exp = [x for x in expected]
    act = [ANSI.sub("", x).replace("\r", "") for x in actual.split("\n")]
    while act and not act[-1].strip():
        act.pop()
    if not exp:
        return None
    if is_header(exp[0]):
        hdr = next((a for a in act if a.strip()), "")
        if norm(hdr) != norm(exp[0]):
            return "table header: shown '%s', real '%s'" % (norm(exp[0]), norm(hdr))
        ecol = [x.split()[0] for x in exp[1:] if x.strip()]
        acol = [x.split()[0] for x in act[act.index(hdr) + 1:] if x.strip()]
        it = iter(acol)
        if not all(c in it for c in ecol):
            return "table rows: shown %s, real %s" % (ecol, acol)
        return None
    if stderr:
        act += [ANSI.sub("", x).replace("\r", "") for x in stderr.split("\n")]
    normed = set(norm(a) for a in act)
    for e in exp:
        ne = norm(e)
        if ne in ("...", ""):
            continue
        if e.lstrip().startswith("{"):
            want = json_keys(e.strip())
            if not any(a.lstrip().startswith("{") and want <= json_keys(a.strip())
                       for a in act):
                real = [a for a in act if a.lstrip().startswith("{")]
                return ("no JSON line has the keys %s; real: %s"
                        % (sorted(want), real[:3] or "none"))
        elif ne not in normed:
            return "line not in the real output: '%s'" % e.strip()
    return None


def clip(text, lines=30):
    t = text.split("\n")
    return "\n".join(t[:lines] + (["... (%d more lines)" % (len(t) - lines)]
                                   if len(t) > lines else []))


# ---- sessions ---------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def parse_transcript(text):
    """[(command, [output lines])]"""
    steps, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("$ "):
            cmd = ln[2:]
            while cmd.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd = cmd + "\n" + lines[i]
            steps.append((cmd, []))
        elif steps:
            steps[-1][1].append(ln)
        elif ln.strip():
            raise Fail("a session starts with a '$ ' command line, not '%s'" % ln)
        i += 1
    while steps and steps[-1][1] and not steps[-1][1][-1].strip():
        steps[-1][1].pop()
    return steps


def strip_comment(cmd):
    """The command without a trailing '# ...' comment (outside quotes)."""
    quote = None
    for i, c in enumerate(cmd):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and (i == 0 or cmd[i - 1] in " \t"):
            return cmd[:i].rstrip()
    return cmd.rstrip()


def is_follow(cmd):
    words = strip_comment(cmd).split()
    if "brummctl" not in " ".join(words):
        return False
    return ("-f" in words or "--follow" in words
            or ("events" in words and "--count" not in words))


READ_ONLY = {"status", "logs", "urls", "errors", "events", "ping", "wait"}


def is_read_only(cmd):
    words = strip_comment(cmd).split()
    for w in words:
        if w in READ_ONLY:
            return True
        if w in ("start", "stop", "restart", "add", "remove", "reload", "signal"):
            return False
    return False


class Scratch:
    """A scratch directory laid out like a checkout for `make run`."""

    def __init__(self, tmp, b, named):
        self.b, self.named = b, named
        self.dir = tempfile.mkdtemp(prefix="s", dir=tmp)
        os.symlink(BIN, os.path.join(self.dir, "bin"))
        self.run = os.path.join(self.dir, "run")
        os.mkdir(self.run, 0o700)
        os.mkdir(os.path.join(self.run, "state"), 0o700)
        self.sock = os.path.join(self.run, "brummd.sock")
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("XDG_RUNTIME_DIR", "BRUMMD_SOCKET", "BRUMMD_STATE_DIR",
                                 "BRUMMD_SOCKET_TRUST_UID", "MAKEFLAGS", "MFLAGS",
                                 "MAKELEVEL")}
        self.env.update(PATH=BIN + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                        BRUMMD_SOCKET=self.sock, NO_COLOR="1", TERM="dumb",
                        BRUMMD_STATE_DIR=os.path.join(self.run, "state"))
        self.daemon = None
        self.exports = []
        self.subst = {}
        if "port" in b.opts:
            if not re.fullmatch(r"\d+", str(b.opts["port"])):
                raise Fail("port=N needs a number")
            self.subst[b.opts["port"]] = str(free_port())
        for f in filter(None, str(b.opts.get("files", "")).split(",")):
            src = os.path.join(ROOT, f)
            if not os.path.isfile(src):
                raise Fail("files=%s: no such file in the tree" % f)
            shutil.copy(src, self.dir)

    def sub(self, s):
        for a, b in self.subst.items():
            s = re.sub(r"(?<!\d)%s(?!\d)" % a, b, s)
        return s

    def config_path(self):
        c = self.b.opts.get("config")
        if not c:
            return None
        if c in self.named:
            path = os.path.join(self.dir, "example-config.json")
            with open(path, "w") as fh:
                fh.write(self.sub(config_text(self.named[c])))
            return path
        src = os.path.join(ROOT, c)
        if not os.path.isfile(src):
            raise Fail("config=%s: neither a config example's name=%s nor a file of"
                       " the tree" % (c, c))
        path = os.path.join(self.dir, os.path.basename(c))
        with open(src) as fi, open(path, "w") as fo:
            fo.write(self.sub(fi.read()))
        return path

    def start(self, make_run=False):
        """Start brummd as `make run` does, or through `make run` itself
        (its RUNDIR in the scratch directory)."""
        if self.b.opts.get("nodaemon"):
            return
        argv = [os.path.join(BIN, "brummd"), "--foreground", "--socket", self.sock]
        cfg = self.config_path()
        if cfg:
            argv += ["-c", cfg]
        if make_run:
            argv = ["make", "-s", "--no-print-directory", "-C", ROOT, "run",
                    "RUNDIR=" + self.run, "SAN=" + os.environ.get("SAN", "")]
            if cfg:
                argv.append("RUNFLAGS=-c " + cfg)
        self.log = open(os.path.join(self.dir, "brummd.log"), "w+")
        self.daemon = subprocess.Popen(argv, cwd=self.dir, env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=self.log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise Fail("brummd exited with %d at start:\n%s"
                           % (self.daemon.returncode, self.daemon_log()))
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.sock)
                s.close()
                break
            except OSError:
                time.sleep(0.01)
        else:
            raise Fail("brummd did not listen within 10 s:\n%s" % self.daemon_log())
        if make_run and "make run: socket %s/brummd.sock," % self.run \
                not in self.daemon_log(1000):
            raise Fail("make run does not say where its socket is:\n%s" % self.daemon_log())
        if make_run and not os.path.exists(os.path.join(self.run, "state", "state.json.lock")):
            raise Fail("make run keeps its state elsewhere than RUNDIR/state:\n%s"
                       % self.daemon_log())

    def daemon_log(self, lines=15):
        if not self.daemon:
            return ""
        self.log.flush()
        with open(self.log.name) as fh:
            return "".join(fh.readlines()[-lines:])

    def stop(self):
        if not self.daemon:
            return
        if self.daemon.poll() is None:
            os.killpg(self.daemon.pid, signal.SIGTERM)
            try:
                self.daemon.wait(15)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.log.close()
        self.daemon = None

    def run_cmd(self, cmd, tty):
        """(exit status or None when a follower was stopped, stdout, stderr)"""
        script = "".join("%s\n" % e for e in self.exports) + cmd
        follow = is_follow(cmd)
        if tty:
            master, slave = pty.openpty()
            out_fd = slave
        else:
            master, out_fd = None, subprocess.PIPE
        p = subprocess.Popen(["sh", "-c", script], cwd=self.dir, env=self.env,
                             stdin=subprocess.DEVNULL, stdout=out_fd,
                             stderr=subprocess.PIPE, start_new_session=True)
        if tty:
            os.close(slave)
        rd = master if tty else p.stdout.fileno()
        fds = {rd: [], p.stderr.fileno(): []}
        deadline = time.monotonic() + (FOLLOW_SECS if follow else COMMAND_SECS)
        stopped = False
        while fds:
            left = deadline - time.monotonic()
            if left <= 0:
                os.killpg(p.pid, signal.SIGTERM if follow else signal.SIGKILL)
                stopped = True
                deadline = time.monotonic() + 5
                left = 5
            r, _, _ = select.select(list(fds), [], [], left)
            for fd in r:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if data:
                    fds[fd].append(data)
                else:
                    chunks = fds.pop(fd)
                    if fd == rd:
                        out = b"".join(chunks)
                    else:
                        err = b"".join(chunks)
        p.wait()
        if tty:
            os.close(master)
        else:
            p.stdout.close()
        p.stderr.close()
        out = out.decode(errors="replace")
        err = err.decode(errors="replace")
        if stopped and not follow:
            raise Fail("'%s' did not end within %d s" % (cmd, COMMAND_SECS))
        return (None if stopped else p.returncode), out, err

    def step(self, cmd, expected, rc=0):
        cmd, expected = self.sub(cmd), [self.sub(e) for e in expected]
        bare = strip_comment(cmd)
        if re.fullmatch(r"(sh scripts/deps\.sh && )?make run( .*)?", bare):
            if not self.daemon:
                raise Fail("'make run' in a session marked nodaemon")
            return
        if re.match(r"export \w+=", bare):
            self.exports.append(cmd)
        deadline = time.monotonic() + RETRY_SECS
        while True:
            code, out, err = self.run_cmd(cmd, bool(self.b.opts.get("tty")))
            if code is not None and code != rc:
                raise Fail("'%s' exited with %d, not %d:\n%s%s\n%s"
                           % (cmd, code, rc, out, err, self.daemon_log()))
            why = compare(expected, out, err)
            if why is None:
                return
            if not (is_read_only(cmd) or self.b.opts.get("retry")) \
                    or time.monotonic() > deadline:
                raise Fail("'%s': %s\nreal output:\n%s" % (cmd, why, clip(out + err)))
            time.sleep(0.1)


def check_session(b, tmp, named):
    s = Scratch(tmp, b, named)
    try:
        if b.kind == "output":
            s.start()
            rc = b.opts.get("rc", "0")
            if not str(rc).isdigit():
                raise Fail("rc=N needs a number")
            s.step(b.opts["cmd"], b.text.split("\n"), int(rc))
            return
        steps = parse_transcript(b.text)
        if not steps:
            raise Fail("a session needs at least one '$ ' command line")
        s.start(make_run=bool(re.fullmatch(r"(sh scripts/deps\.sh && )?make run",
                                           strip_comment(steps[0][0]))))
        rc = b.opts.get("rc", "0")
        if not str(rc).isdigit():
            raise Fail("rc=N needs a number")
        for n, (cmd, expected) in enumerate(steps):
            s.step(cmd, expected, int(rc) if n == len(steps) - 1 else 0)
    finally:
        s.stop()


# ---- usage ----------------------------------------------------------------

_help = {}


def help_text(prog):
    if prog not in _help:
        r = subprocess.run([os.path.join(BIN, prog), "--help"], capture_output=True,
                           text=True, timeout=COMMAND_SECS)
        _help[prog] = r.stdout + r.stderr
    return _help[prog]


def ctl_commands():
    return set(re.findall(r"^  ([a-z][a-z-]*) ", help_text("brummctl"), re.M))


def is_synopsis(words):
    return any(re.search(r"[\[\]|]|\.\.\.", w) or re.fullmatch(r"[A-Z][A-Z_=]*", w)
               or re.fullmatch(r"[A-Z]+=[A-Z]+", w) for w in words)


def options_in(words):
    opts = []
    for w in words:
        for part in re.split(r"[\[\]|]", w):
            m = re.match(r"^(--?[A-Za-z][\w-]*)", part)
            if m:
                opts.append(m.group(1))
    return opts


def check_option_list(prog, opts, line):
    text = help_text(prog)
    for o in opts:
        if not re.search(r"(^|[\s,\[|])%s([\s=,\]|]|$)" % re.escape(o), text, re.M):
            raise Fail("'%s': %s does not document %s in --help" % (line, prog, o))


def check_brummctl_words(words, line):
    if is_synopsis(words):
        check_option_list("brummctl", options_in(words), line)
        cmds = ctl_commands()
        for w in words:
            if re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", w):
                for c in w.split("|"):
                    if c not in cmds and c != "help":
                        raise Fail("'%s': '%s' is not a brummctl command" % (line, c))
                break
        return
    r = subprocess.run([os.path.join(BIN, "brummctl"), "--socket",
                        "/nonexistent/brummd-examples/brummd.sock"] + words,
                       capture_output=True, text=True, timeout=COMMAND_SECS,
                       env=dict(os.environ, NO_COLOR="1"))
    if r.returncode not in (0, 3):
        raise Fail("'%s': brummctl's parser refuses it (exit %d): %s"
                   % (line, r.returncode, r.stderr.strip()))


def check_usage_line(line, ctl_synopsis):
    """Check one line; returns whether it was a brummctl synopsis line."""
    bare = strip_comment(line).strip()
    if not bare:
        return ctl_synopsis
    for part in re.split(r"\s*(?:&&|;)\s*|\s+\|\|?\s+", bare):
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        if not words:
            continue
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            words = words[1:]
        prog = os.path.basename(words[0])
        if prog == "brummctl":
            check_brummctl_words(words[1:], line)
            ctl_synopsis = is_synopsis(words[1:])
        elif prog == "brummd":
            check_option_list("brummd", options_in(words[1:]), line)
        elif prog == "make":
            mk = open(os.path.join(ROOT, "Makefile")).read()
            for t in words[1:]:
                if "=" in t or t.startswith("-"):
                    continue
                if not re.search(r"^(\.PHONY:.*\s)?%s\s*:" % re.escape(t), mk, re.M):
                    raise Fail("'%s': the Makefile has no target '%s'" % (line, t))
        elif prog == "sh" and len(words) > 1:
            if not os.path.isfile(os.path.join(ROOT, words[1])):
                raise Fail("'%s': no script %s in the tree" % (line, words[1]))
        elif prog == "systemctl":
            for u in words[1:]:
                if re.search(r"\.(service|socket)$", u) and \
                        not os.path.isfile(os.path.join(ROOT, "systemd", u)):
                    raise Fail("'%s': no unit %s in systemd/" % (line, u))
        elif prog in ("kill", "pidof", "echo", "jq", "socat", "curl", "sudo"):
            pass
        elif ctl_synopsis and line.startswith((" ", "\t")):
            check_brummctl_words(words, line)
        else:
            raise Fail("'%s': don't know how to check '%s' (usage knows brummctl,"
                       " brummd, make, sh SCRIPT, systemctl)" % (line, prog))
    return ctl_synopsis


def check_usage(b):
    ctl = False
    for line in b.text.split("\n"):
        line = re.sub(r"^\$ ", "", line)
        ctl = check_usage_line(line, ctl)


# ---- main -----------------------------------------------------------------

def main(argv):
    global VERBOSE
    if argv and argv[0] == "-v":
        VERBOSE, argv = True, argv[1:]
    files = argv or [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "man", "*.[0-9]")))
    for prog in ("brummd", "brummctl"):
        if not os.access(os.path.join(BIN, prog), os.X_OK):
            print("check-examples: %s/%s is missing: run make first" % (BIN, prog))
            return 1
    errors, blocks, started = [], [], time.monotonic()
    for f in files:
        try:
            blocks += blocks_md(f, errors) if f.endswith(".md") else blocks_man(f, errors)
        except Fail as e:
            errors.append(str(e))
    named = {}
    for b in blocks:
        if b.kind == "config" and "name" in b.opts:
            if b.opts["name"] in named:
                errors.append("%s: a second config example named %s"
                              % (b.where(), b.opts["name"]))
            named[b.opts["name"]] = b
    counts = dict.fromkeys(KINDS, 0)
    for b in blocks:
        counts[b.kind] += 1
    tmp = tempfile.mkdtemp(prefix="brm-examples-")

    def check(b):
        t0 = time.monotonic()
        try:
            if b.kind == "config":
                check_config(b, tmp)
            elif b.kind in ("session", "output"):
                check_session(b, tmp, named)
            elif b.kind == "usage":
                check_usage(b)
            err = None
        except Fail as e:
            err = "%s: %s example: %s" % (b.where(), b.kind, e)
        except (OSError, subprocess.SubprocessError) as e:
            err = "%s: %s example: %s" % (b.where(), b.kind, e)
        if VERBOSE:
            print("  %s: %s, %.2f s%s" % (b.where(), b.kind, time.monotonic() - t0,
                                          ", FAILED" if err else ""))
        return err
    try:
        # Sessions mostly wait for brummd and its children: a few at once.
        with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
            errors += [e for e in pool.map(check, blocks) if e]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for e in errors:
        print("check-examples: " + e)
    summary = ", ".join("%d %s" % (counts[k], k) for k in KINDS)
    print("check-examples: %d examples (%s) in %.1f s: %s"
          % (len(blocks), summary, time.monotonic() - started,
             "%d FAILED" % len(errors) if errors else "all passed"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
