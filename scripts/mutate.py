#!/usr/bin/env python3
"""mutate.py - run the test suites against single mutations of the sources.

Reads the mutations in tests/mutations.txt (the format is described at its
top), copies the tracked and untracked-but-not-ignored files of the checkout
into a scratch directory under /tmp, builds there once and runs every suite
once (the baseline must pass, or every mutation would look killed), then for
each mutation:

  1. finds its anchor text in the pristine file; an anchor that is missing
     or occurs more than once is STALE: it counts against the score and is
     reported, never skipped silently;
  2. writes the mutated file, rebuilds (make's dependency files limit the
     work to what the file reaches); a build that fails counts as killed,
     but is flagged: a mutation should compile;
  3. runs the suites (its hinted suites first, then the others), stopping at
     the first that fails: killed. A suite that outlives MUTATE_SUITE_TIMEOUT
     seconds counts as failing (a hang is a detected bug). All pass: SURVIVED;
  4. writes the pristine file back.

The real checkout is never written to. The scratch directory is removed on
any exit, Ctrl-C included (MUTATE_KEEP=1 keeps it for a post-mortem).

Environment:
  MUTATE_ONLY=id1,id2      run only these mutations
  MUTATE_LIST=path         another list (default tests/mutations.txt)
  MUTATE_SUITE_TIMEOUT=s   per suite, default 240
  MUTATE_MIN=percent       the score below which the exit status is 1 (90)
  MUTATE_KEEP=1            keep the scratch directory
  MUTATE_VERBOSE=1         print the failing suite's last lines for each kill
  MUTATE_CHECK=1           only check the list and every anchor; no build

Builds and suites run under `nice -n 19`, one at a time: the machine is
shared. Exit status: 0 when the score reaches MUTATE_MIN, 1 below it, 2 on a
usage error, a broken list or a failing baseline.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = ("id", "file", "area", "desc", "find", "repl")
OPTIONAL = ("suites",)


def die(msg):
    print("mutate: %s" % msg, file=sys.stderr)
    sys.exit(2)


def unescape(s, where):
    """\\n, \\t and \\\\ in an anchor; any other backslash is an error."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= len(s):
            die("%s: a backslash ends the value" % where)
        n = s[i + 1]
        if n == "n":
            out.append("\n")
        elif n == "t":
            out.append("\t")
        elif n == "\\":
            out.append("\\")
        else:
            die("%s: unknown escape '\\%s' (only \\n, \\t and \\\\)" % (where, n))
        i += 2
    return "".join(out)


def parse_list(path):
    muts, cur, seen = [], {}, set()

    def finish(lineno):
        if not cur:
            return
        where = "%s:%d" % (path, cur["_line"])
        missing = [f for f in FIELDS if f not in cur]
        if missing:
            die("%s: missing field(s) %s" % (where, ", ".join(missing)))
        if cur["id"] in seen:
            die("%s: duplicate id '%s'" % (where, cur["id"]))
        seen.add(cur["id"])
        cur["find"] = unescape(cur["find"], where + " find")
        cur["repl"] = unescape(cur["repl"], where + " repl")
        if cur["find"] == cur["repl"]:
            die("%s: find and repl are the same" % where)
        cur["suites"] = cur.get("suites", "").split()
        muts.append(dict(cur))
        cur.clear()

    try:
        with open(path) as f:
            lines = f.read().split("\n")
    except OSError as e:
        die("cannot read '%s': %s" % (path, e.strerror))
    for no, line in enumerate(lines, 1):
        if line.startswith("#"):
            continue
        if not line.strip():
            finish(no)
            continue
        m = re.match(r"^([a-z]+): ?(.*)$", line)
        if not m or m.group(1) not in FIELDS + OPTIONAL:
            die("%s:%d: expected 'field: value' with a field among %s" %
                (path, no, ", ".join(FIELDS + OPTIONAL)))
        if not cur:
            cur["_line"] = no
        if m.group(1) in cur:
            die("%s:%d: field '%s' given twice" % (path, no, m.group(1)))
        cur[m.group(1)] = m.group(2)
    finish(len(lines))
    return muts


def copy_tree(dst):
    """The files git knows, and new ones it does not ignore (a new test)."""
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], check=True, stdout=subprocess.PIPE).stdout
    for rel in out.decode().split("\0"):
        if not rel:
            continue
        src = os.path.join(ROOT, rel)
        if not os.path.lexists(src):
            continue    # deleted in the work tree
        d = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), d)
        else:
            shutil.copy2(src, d)


def run_logged(cmd, cwd, log, timeout, env=None):
    """Runs @cmd in its own process group; returns (status, seconds).
    status is the exit code, or 'timeout'."""
    t0 = time.monotonic()
    with open(log, "wb") as lf:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=lf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = "timeout"
        finally:
            # Whatever the suite left in its group (a brummd, a child).
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    return rc, time.monotonic() - t0


def tail(path, n=12):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def first_failure(path):
    """The first failing Check test in a suite's output: its case and name."""
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"^[^:]+:\d+:[FE]:([^:]+):([^:]+):", line)
                if m:
                    return "%s:%s" % (m.group(1), m.group(2))
    except OSError:
        pass
    return None


class Tree:
    def __init__(self, path):
        self.path = path
        tests = sorted(f[:-2] for f in os.listdir(os.path.join(path, "tests"))
                       if f.startswith("test_") and f.endswith(".c"))
        self.suites = tests
        self.targets = ["bin/brummd", "bin/brummctl", "bin/brm-testchild"] + \
            ["bin/" + t for t in tests]
        self.env = dict(os.environ, BRM_BINDIR=os.path.join(path, "bin"))
        self.env.pop("CK_RUN_CASE", None)
        self.env.pop("CK_RUN_SUITE", None)
        self.log = os.path.join(path, "mutate.log")

    def build(self):
        rc, _ = run_logged(["nice", "-n", "19", "make", "-j2"] + self.targets,
                           self.path, self.log, 1800)
        return rc == 0

    def run_suites(self, first, timeout):
        """Returns (failing suite or None, reason, seconds)."""
        order = [s for s in first if s in self.suites] + \
            [s for s in self.suites if s not in first]
        total = 0.0
        for s in order:
            rc, secs = run_logged(["nice", "-n", "19", os.path.join("bin", s)], self.path,
                                  self.log, timeout, self.env)
            total += secs
            if rc != 0:
                return s, ("timed out after %ds" % timeout if rc == "timeout"
                           else first_failure(self.log) or "exit %s" % rc), total
        return None, "", total


def main():
    listpath = os.environ.get("MUTATE_LIST", os.path.join(ROOT, "tests", "mutations.txt"))
    only = [x for x in os.environ.get("MUTATE_ONLY", "").split(",") if x]
    suite_timeout = int(os.environ.get("MUTATE_SUITE_TIMEOUT", "240"))
    minimum = float(os.environ.get("MUTATE_MIN", "90"))
    verbose = os.environ.get("MUTATE_VERBOSE") == "1"

    muts = parse_list(listpath)
    if only:
        unknown = sorted(set(only) - {m["id"] for m in muts})
        if unknown:
            die("MUTATE_ONLY names unknown mutation(s): %s" % ", ".join(unknown))
        muts = [m for m in muts if m["id"] in only]
    if not muts:
        die("no mutations to run")
    if os.environ.get("MUTATE_CHECK") == "1":
        stale = 0
        for m in muts:
            try:
                with open(os.path.join(ROOT, m["file"])) as f:
                    count = f.read().count(m["find"])
            except OSError:
                count = 0
            if count != 1:
                stale += 1
                print("STALE %s: anchor occurs %d times in %s" % (m["id"], count, m["file"]))
        print("mutate: %d mutation(s), %d stale" % (len(muts), stale))
        return 1 if stale else 0

    scratch = tempfile.mkdtemp(prefix="brm-mutate.")
    # mkdtemp makes it 0700: the suites run the test child as `nobody`,
    # which must reach it, as it reaches an ordinary checkout.
    os.chmod(scratch, 0o755)

    def cleanup_signal(signo, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, cleanup_signal)
    signal.signal(signal.SIGHUP, cleanup_signal)
    start = time.monotonic()
    results = []
    try:
        copy_tree(scratch)
        tree = Tree(scratch)
        print("mutate: %d mutation(s), %d suites, scratch tree %s" %
              (len(muts), len(tree.suites), scratch), flush=True)
        if not tree.build():
            print(tail(tree.log, 30), end="")
            die("the unmutated tree does not build")
        bad, why, secs = tree.run_suites([], suite_timeout)
        if bad:
            print(tail(tree.log, 30), end="")
            die("baseline: %s fails on the unmutated tree (%s); fix that first" % (bad, why))
        print("mutate: baseline passes (suites %.0fs)" % secs, flush=True)

        for i, m in enumerate(muts, 1):
            t0 = time.monotonic()
            path = os.path.join(scratch, m["file"])
            try:
                with open(path) as f:
                    orig = f.read()
            except OSError as e:
                orig, count = None, 0
                note = "cannot read '%s': %s" % (m["file"], e.strerror)
            if orig is not None:
                count = orig.count(m["find"])
                note = "anchor occurs %d times in %s" % (count, m["file"])
            if count != 1:
                res, detail = "STALE", note
            else:
                with open(path, "w") as f:
                    f.write(orig.replace(m["find"], m["repl"], 1))
                try:
                    if not tree.build():
                        res, detail = "build-failed", "does not compile (counted killed)"
                        if verbose:
                            detail += "\n" + tail(tree.log)
                    else:
                        bad, why, _ = tree.run_suites(m["suites"], suite_timeout)
                        if bad:
                            res, detail = "killed", "%s %s" % (bad, why)
                            if verbose:
                                detail += "\n" + tail(tree.log)
                        else:
                            res, detail = "SURVIVED", "every suite passed"
                finally:
                    with open(path, "w") as f:
                        f.write(orig)
            results.append((m, res, detail))
            print("[%2d/%d] %-12s %-28s %s  %.0fs" %
                  (i, len(muts), res, m["id"], detail, time.monotonic() - t0), flush=True)
        # Leave the scratch binaries matching the sources (MUTATE_KEEP).
        tree.build()
    except KeyboardInterrupt:
        print("\nmutate: interrupted", file=sys.stderr)
        sys.exit(130)
    finally:
        if os.environ.get("MUTATE_KEEP") == "1":
            print("mutate: scratch tree kept in %s" % scratch)
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    n = len(results)
    killed = [r for r in results if r[1] in ("killed", "build-failed")]
    survived = [r for r in results if r[1] == "SURVIVED"]
    stale = [r for r in results if r[1] == "STALE"]
    built_bad = [r for r in results if r[1] == "build-failed"]
    pct = 100.0 * len(killed) / n
    print()
    print("mutate: %d killed of %d (%.0f%%)%s in %.0fs" %
          (len(killed), n, pct,
           "" if not (stale or built_bad) else
           "; %d stale, %d killed only by the compiler" % (len(stale), len(built_bad)),
           time.monotonic() - start))
    for title, rows in (("survivors", survived), ("stale (fix the anchor)", stale),
                        ("killed by the compiler (rewrite so it compiles)", built_bad)):
        if rows:
            print("%s:" % title)
            for m, _, detail in rows:
                print("  %-28s [%s] %s: %s" % (m["id"], m["area"], m["file"], m["desc"]))
                if title.startswith("stale"):
                    print("  %-28s %s" % ("", detail))
    if pct < minimum:
        print("mutate: below %g%%" % minimum)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
