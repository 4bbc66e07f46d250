#!/usr/bin/env python3
"""map.py — the README's map of the source tree ("How it is built"), drawn
from the code: each folder's line below, then each .c file (and each header
without a .c) with the first sentence of its opening comment.

    python3 scripts/map.py            print the map
    python3 scripts/map.py --write    put it into README.md between the markers
    python3 scripts/map.py --check    exit 1 if README.md's map is not today's
                                      (make lint runs this)

A file's sentence is the opening comment's first sentence, less its
"name.c — " and a trailing "(see x.h)"; where that leaves only "see x.h",
the header's sentence stands in. A new file needs only its opening comment.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN = "<!-- map: begin (scripts/map.py --write redraws it) -->"
END = "<!-- map: end -->"

# What each folder is for, and the thread its code runs on.
FOLDERS = [
    ("daemon", "brummd's main thread: options, start-up, shutdown, service manager"),
    ("daemon/conf", "pure parsing of the config, on any thread"),
    ("daemon/rpc", "the worker threads (RCU readers): socket, connections, methods"),
    ("daemon/sup", "the loop thread, the only writer: supervision, spawn, logs, state"),
    ("lib", "shared by daemon and CLI: registry, buffers, client, patterns"),
    ("proto", "what daemon and clients agree on (PROTOCOL.md is the contract)"),
    ("cli", "brummctl"),
    ("tests", "Check suites (one main(), tests/main.c) and the end-to-end harness"),
    ("bench", "benchmarks against baselines in the same run (bench/README.md)"),
    ("fuzz", "libFuzzer targets (make fuzz)"),
]
WIDTH = 78
LONG = 110  # a longer sentence is cut at its first clause


def opening(path):
    """The first paragraph of the file's opening comment, as one line."""
    try:
        text = open(path, encoding="utf-8").read()
    except OSError:
        return ""
    m = re.match(r"\s*/\*(.*?)\*/", text, re.S)
    if not m:
        return ""
    lines = []
    for ln in m.group(1).splitlines():
        ln = ln.strip().lstrip("*").strip()
        if not ln:
            if lines:
                break
            continue
        lines.append(ln)
    return " ".join(lines)


def sentence(path):
    para = opening(path)
    base = os.path.basename(path)
    para = re.sub(r"^" + re.escape(base) + r"\s*(—|-|:)\s*", "", para)
    m = re.search(r"(?<![ie]\.g)(?<!i\.e)\.(\s|$)", para)
    s = para[:m.start()] if m else para
    s = re.sub(r"[;,]?\s*\(?see [\w/]+\.h\)?$", "", s).strip()
    # asides that name a file or say "see ..." are the file's business
    s = re.sub(r"\s*\((see |[\w/]+\.(h|c|md)\b)[^()]*\)", "", s).strip()
    if len(s) > LONG:
        cut = [i for i in (s.find(":"), s.find(";"), s.find(" — ")) if i >= 15]
        if cut:
            s = s[:min(cut)]
    if len(s) > LONG:
        i = s.rfind(", ", 0, LONG)
        if i >= 15:
            s = s[:i]
    if s.count("(") > s.count(")"):
        s = s[:s.rfind("(")]
    s = s.strip().rstrip(":;,").strip()
    if not s or s.lower().startswith("see "):
        h = os.path.splitext(path)[0] + ".h"
        if h != path and os.path.exists(h):
            return sentence(h)
    return s


def wrap(prefix, text, indent):
    out, line = [], prefix
    for w in text.split():
        if len(line) + 1 + len(w) > WIDTH and line.strip():
            out.append(line)
            line = " " * indent + w
        else:
            line = line + (" " if line.strip() and not line.endswith(" ") else "") + w
    out.append(line)
    return out


def draw():
    out = []
    for folder, what in FOLDERS:
        d = os.path.join(ROOT, folder)
        if not os.path.isdir(d):
            continue
        out.append(folder + "/  " + what)
        names = sorted(os.listdir(d))
        files = [n for n in names if n.endswith(".c") or
                 (n.endswith(".h") and n[:-2] + ".c" not in names
                  and not n.endswith("_int.h"))]
        if folder == "tests":
            files = [n for n in files if not n.startswith("test_")]
        for n in files:
            s = sentence(os.path.join(d, n))
            out.extend(wrap("  %-16s " % n, s, 19))
        if folder == "tests":
            out.append("  %-16s one suite per subject (%d suites)" % (
                "test_*.c", len([n for n in names if n.startswith("test_")])))
    return "\n".join(out) + "\n"


def main():
    readme = os.path.join(ROOT, "README.md")
    text = open(readme, encoding="utf-8").read()
    block = "%s\n<!-- example: skip: a map of the source tree, not a command -->\n```\n%s```\n%s" % (
        BEGIN, draw(), END)
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "":
        sys.stdout.write(draw())
        return 0
    i, j = text.find(BEGIN), text.find(END)
    if i < 0 or j < 0:
        print("map.py: README.md has no map markers", file=sys.stderr)
        return 1
    new = text[:i] + block + text[j + len(END):]
    if mode == "--write":
        if new != text:
            open(readme, "w", encoding="utf-8").write(new)
        return 0
    if mode == "--check":
        if new != text:
            print("map.py: README.md's map of the source tree is stale (a file was added,"
                  " moved or its opening comment changed): run 'python3 scripts/map.py"
                  " --write'", file=sys.stderr)
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
