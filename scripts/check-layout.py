#!/usr/bin/env python3
"""check-layout.py - the source tree's layout rules, checked (make lint).

Reads every .c and .h file of the tree (git's tracked and untracked but not
ignored files; outside a git checkout every file below the root) and its
`#include "..."` lines. An include is resolved as the compiler does with
-I.: beside the including file first, then from the top of the tree; an
include that resolves to no file of the tree (a system header) is ignored.

The rules, each with the form its violations are written in:

  cycle FILE -> HEADER
      No include cycle. A module is a .c, its .h and its private header
      named X_int.h, if it has one (daemon/sup/supervise.c, supervise.h and
      supervise_int.h are module daemon/sup/supervise); module A
      depends on B when a file of A includes B's header. Every include
      between two modules of one dependency cycle (a strongly connected
      component) is a violation: removing those lines is what breaks it.

  dircycle DIR -> DIR
      No cycle between the layers: lib, proto, cli, daemon (all of it, its
      folders included), tests, bench, fuzz. DIR -> DIR says some file of
      the first includes a header of the second while, the other way round,
      the second reaches the first.

  rpc-sup FILE -> HEADER
      daemon/rpc/ (worker threads) includes nothing from daemon/sup/ (the
      loop thread) but the command hand-off header, daemon/sup/cmd.h.

  long FILE
      No .c or .h file over 700 lines unless its opening comment says why,
      in a line that starts with "Long because:", e.g.

          /*
           * spawn.c - ...
           *
           * Long because: the clone+vfork child is one piece of code that
           * must not call into other files (async-signal-safe only).
           */

      (the first comment of the file, /* */ or // lines; the leading "*" or
      "//" of the line does not count).

scripts/layout-allow.txt lists the violations that are known and accepted
for now, one a line, in the forms above, each followed by "# reason":

    long daemon/conf/config.c   # being split (issue 14)

The check fails on any violation the list does not hold, and on any line of
the list that no longer occurs, so the list only shrinks: when a change
fixes a listed violation, the same change deletes its line.

Usage:
  scripts/check-layout.py                  check the tree (exit 0 or 1)
  scripts/check-layout.py --list           print today's violations in the
                                           list's form (to write a list)
  scripts/check-layout.py --prune          delete the list's lines that no
                                           longer occur (it never adds one)
  scripts/check-layout.py --self-test [-v] build small fake trees and check
                                           that each rule passes and fails
                                           where it should (make lint runs it;
                                           -v names every case)
  --root DIR, --allow FILE                 another tree or list

Exit status: 0 clean, 1 violations or a stale or broken list, 2 usage.
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 700
LONG_MARK = "Long because:"
RPC_DIR = "daemon/rpc/"
SUP_DIR = "daemon/sup/"
RPC_MAY_INCLUDE = {"daemon/sup/cmd.h"}
LAYERS = ("lib", "proto", "cli", "daemon", "tests", "bench", "fuzz")
SKIP_DIRS = {".git", "run", "corpus"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def source_files(root):
    """The tree's .c and .h files, as paths from the root."""
    if os.path.isdir(os.path.join(root, ".git")) or os.path.isfile(os.path.join(root, ".git")):
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], stdout=subprocess.PIPE, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    else:
        files = []
        for d, dirs, names in os.walk(root):
            dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS
                             and not re.match(r"(obj|bin)(-.*)?$", x))
            files += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return sorted(f for f in files if f.endswith((".c", ".h"))
                  and os.path.isfile(os.path.join(root, f)))


def read(root, path):
    with open(os.path.join(root, path), errors="replace") as f:
        return f.read()


def includes(root, files):
    """{file: [included file of the tree, ...]} in the order written."""
    have = set(files)
    out = {}
    for f in files:
        got = []
        for name in INCLUDE.findall(read(root, f)):
            for cand in (os.path.join(os.path.dirname(f), name), name):
                cand = os.path.normpath(cand)
                if cand in have:
                    got.append(cand)
                    break
        out[f] = got
    return out


def sccs(nodes, edges):
    """Tarjan's strongly connected components; edges: {node: set(node)}."""
    index, low, on, stack, comps, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        work = [(v, iter(sorted(edges.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == node:
                        break
                comps.append(comp)

    for n in sorted(nodes):
        if n not in index:
            visit(n)
    return comps


def module(path):
    """daemon/sup/supervise_int.h -> daemon/sup/supervise."""
    base = os.path.splitext(path)[0]
    if path.endswith(".h") and base.endswith("_int"):
        base = base[:-len("_int")]
    return base


def layer(path):
    top = path.split("/", 1)[0]
    return top if top in LAYERS else None


def cycle_violations(inc, key, kind):
    """Every include between two nodes (key(file)) of one cycle."""
    edges = {}
    for f, hs in inc.items():
        for h in hs:
            a, b = key(f), key(h)
            if a and b and a != b:
                edges.setdefault(a, set()).add(b)
    nodes = set(edges) | {b for bs in edges.values() for b in bs}
    comp_of = {}
    for comp in sccs(nodes, edges):
        if len(comp) > 1:
            for n in comp:
                comp_of[n] = comp
    found = {}
    for f, hs in sorted(inc.items()):
        for h in hs:
            a, b = key(f), key(h)
            if a and b and a != b and a in comp_of and b in comp_of[a]:
                cyc = " ".join(sorted(comp_of[a]))
                if kind == "cycle":
                    found["cycle %s -> %s" % (f, h)] = "in the include cycle {%s}" % cyc
                else:
                    found.setdefault("dircycle %s -> %s" % (a, b),
                                     "%s includes %s; layers in a cycle: {%s}" % (f, h, cyc))
    return found


def opening_comment(text):
    """The lines of the file's first comment, without their decoration."""
    s = text.lstrip()
    lines = []
    if s.startswith("/*"):
        end = s.find("*/")
        body = s[2:end if end >= 0 else len(s)]
        for ln in body.splitlines():
            lines.append(re.sub(r"^\s*\*?\s?", "", ln).strip())
    else:
        for ln in s.splitlines():
            if not ln.lstrip().startswith("//"):
                break
            lines.append(ln.lstrip()[2:].strip())
    return lines


def violations(root):
    """{key: detail} of every violation in the tree at @root."""
    files = source_files(root)
    inc = includes(root, files)
    found = {}
    found.update(cycle_violations(inc, module, "cycle"))
    found.update(cycle_violations(inc, layer, "dircycle"))
    for f in files:
        if f.startswith(RPC_DIR):
            for h in inc[f]:
                if h.startswith(SUP_DIR) and h not in RPC_MAY_INCLUDE:
                    found["rpc-sup %s -> %s" % (f, h)] = (
                        "rpc/ runs on worker threads; of sup/ (the loop thread) it may"
                        " include only %s" % ", ".join(sorted(RPC_MAY_INCLUDE)))
        text = read(root, f)
        n = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if n > MAX_LINES and not any(ln.startswith(LONG_MARK)
                                     for ln in opening_comment(text)):
            found["long %s" % f] = (
                "%d lines (over %d): split it, or say why not in its opening comment,"
                " a line starting with '%s'" % (n, MAX_LINES, LONG_MARK))
    return found


def read_allow(path):
    """{key: line number}; a broken line is an error (exit 1)."""
    allow, errors = {}, []
    if not os.path.exists(path):
        return allow, errors
    with open(path) as f:
        for no, ln in enumerate(f, 1):
            s = ln.strip()
            if not s or s.startswith("#"):
                continue
            key, sep, reason = s.partition("#")
            key = " ".join(key.split())
            if not sep or not reason.strip():
                errors.append("%s:%d: no reason: write '%s  # why'" % (path, no, key))
            elif not re.fullmatch(r"(cycle|dircycle|rpc-sup) \S+ -> \S+|long \S+", key):
                errors.append("%s:%d: '%s' is none of: cycle FILE -> HEADER,"
                              " dircycle DIR -> DIR, rpc-sup FILE -> HEADER, long FILE"
                              % (path, no, key))
            elif key in allow:
                errors.append("%s:%d: '%s' is listed twice (first at line %d)"
                              % (path, no, key, allow[key]))
            else:
                allow[key] = no
    return allow, errors


def check(root, allow_path, out=sys.stdout):
    """Prints the problems; returns their number."""
    found = violations(root)
    allow, problems = read_allow(allow_path)
    rel = os.path.relpath(allow_path, root) if allow_path.startswith(root) else allow_path
    for key in sorted(found):
        if key not in allow:
            problems.append("%s: %s" % (key, found[key]))
    for key, no in sorted(allow.items(), key=lambda kv: kv[1]):
        if key not in found:
            problems.append("%s:%d: '%s' no longer occurs: delete the line"
                            " (the list only shrinks; --prune does it)" % (rel, no, key))
    for p in problems:
        print("check-layout: %s" % p, file=out)
    if problems:
        print("check-layout: %d problem(s); the rules are at the top of"
              " scripts/check-layout.py; %s lists the accepted violations"
              % (len(problems), rel), file=out)
    return len(problems)


def prune(root, allow_path):
    """Deletes the lines of the list whose violation no longer occurs."""
    found = violations(root)
    allow, errors = read_allow(allow_path)
    gone = {no for key, no in allow.items() if key not in found}
    with open(allow_path) as f:
        lines = f.readlines()
    with open(allow_path, "w") as f:
        f.writelines(ln for no, ln in enumerate(lines, 1) if no not in gone)
    print("check-layout: deleted %d line(s) of %s" % (len(gone), allow_path))
    return 0


# ---- self-test: small fake trees, each rule seen failing and passing ------

def self_test(verbose):
    def tree(files, allow=""):
        d = tempfile.mkdtemp(prefix="check-layout.")
        for path, text in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(d, path), "w") as f:
                f.write(text)
        os.makedirs(os.path.join(d, "scripts"), exist_ok=True)
        with open(os.path.join(d, "scripts/layout-allow.txt"), "w") as f:
            f.write(allow)
        return d

    def run(files, allow=""):
        d = tree(files, allow)
        with open(os.devnull, "w") as null:
            n = check(d, os.path.join(d, "scripts/layout-allow.txt"), null)
        keys = set(violations(d))
        subprocess.run(["rm", "-rf", d], check=True)
        return n, keys

    top = "/*\n * x - what it is for.\n */\n"
    clean = {
        "lib/util.h": top,
        "lib/util.c": top + '#include "lib/util.h"\n#include <stdio.h>\n',
        "proto/proto.h": top + '#include "lib/util.h"\n',
        "daemon/sup/cmd.h": top + '#include "proto/proto.h"\n',
        "daemon/sup/supervise.h": top,
        "daemon/sup/supervise.c": top + '#include "supervise.h"\n#include "daemon/sup/cmd.h"\n',
        "daemon/rpc/server.c": top + '#include "daemon/sup/cmd.h"\n',
    }
    cases = []

    def case(name, changes, want_keys, allow="", want_fail=None):
        files = dict(clean)
        files.update(changes)
        n, keys = run(files, allow)
        fail = bool(n)
        if want_fail is None:
            want_fail = bool(want_keys)
        ok = keys == set(want_keys) and fail == want_fail
        cases.append((name, ok, keys, n))

    case("a clean tree passes", {}, [])
    case("a cycle of two modules fails",
         {"lib/util.h": top + '#include "proto/proto.h"\n'},
         ["cycle lib/util.h -> proto/proto.h", "cycle proto/proto.h -> lib/util.h",
          "dircycle lib -> proto", "dircycle proto -> lib"])
    case("a cycle through a .c file (beside-file include) fails",
         {"daemon/sup/supervise.c": top + '#include "cmd.h"\n',
          "daemon/sup/cmd.c": top + '#include "supervise.h"\n'},
         ["cycle daemon/sup/supervise.c -> daemon/sup/cmd.h",
          "cycle daemon/sup/cmd.c -> daemon/sup/supervise.h"])
    case("a private header X_int.h belongs to its module X",
         {"daemon/sup/supervise_int.h": top + '#include "daemon/sup/supervise.h"\n',
          "daemon/sup/supervise.c": top + '#include "supervise_int.h"\n'}, [])
    case("rpc/ including a sup/ header other than cmd.h fails",
         {"daemon/rpc/server.c": top + '#include "daemon/sup/supervise.h"\n'},
         ["rpc-sup daemon/rpc/server.c -> daemon/sup/supervise.h"])
    long_body = "int x;\n" * (MAX_LINES + 1)
    case("a file over %d lines fails" % MAX_LINES,
         {"lib/big.c": top + long_body}, ["long lib/big.c"])
    case("exactly %d lines passes" % MAX_LINES,
         {"lib/big.c": top + "int x;\n" * (MAX_LINES - 3)}, [])
    case("a long file whose opening comment says why passes",
         {"lib/big.c": "/*\n * big.c - a table.\n *\n * Long because: one table.\n */\n"
          + long_body}, [])
    case("'Long because:' later in the file does not count",
         {"lib/big.c": top + "/* Long because: no */\n" + long_body}, ["long lib/big.c"])
    case("a listed violation passes",
         {"lib/big.c": top + long_body}, ["long lib/big.c"],
         allow="long lib/big.c  # a test\n", want_fail=False)
    case("a listed entry that no longer occurs fails", {}, [],
         allow="long lib/util.c  # fixed meanwhile\n", want_fail=True)
    case("a listed entry without a reason fails",
         {"lib/big.c": top + long_body}, ["long lib/big.c"],
         allow="long lib/big.c\n", want_fail=True)

    bad = 0
    for name, ok, keys, n in cases:
        if verbose or not ok:
            print("check-layout self-test: %s: %s" % ("ok" if ok else "FAILED", name))
        if not ok:
            print("    found %s, %d problem(s)" % (sorted(keys), n))
            bad += 1
    print("check-layout self-test: %d of %d cases as expected" % (len(cases) - bad, len(cases)))
    return bad


def main(argv):
    root, allow, mode, verbose = ROOT, None, "check", False
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("--root", "--allow") and args:
            v = os.path.abspath(args.pop(0))
            if a == "--root":
                root = v
            else:
                allow = v
        elif a in ("--list", "--self-test", "--prune"):
            mode = a[2:]
        elif a in ("-v", "--verbose"):
            verbose = True
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            print("check-layout: unknown argument '%s' (--help)" % a, file=sys.stderr)
            return 2
    allow = allow or os.path.join(root, "scripts", "layout-allow.txt")
    if mode == "self-test":
        return 1 if self_test(verbose) else 0
    if mode == "prune":
        return prune(root, allow)
    if mode == "list":
        for key, detail in sorted(violations(root).items()):
            print("%s  # %s" % (key, detail))
        return 0
    return 1 if check(root, allow) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
