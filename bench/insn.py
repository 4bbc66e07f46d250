#!/usr/bin/env python3
"""bench/insn.py -- instructions brummd executes for one fixed workload,
counted by valgrind's callgrind, for one or two builds in the same run.

  python3 bench/insn.py --bindir DIR [--base DIR] [--n 100]

Wall-clock figures on a shared 2-core machine move by 2x from one run to the
next (bench/NOTES.md); instruction counts do not, so this is the check that
a change which should not move performance (a refactor, a file split) did
not: compare the tree against the build before it with --base.

The workload, over the real socket, against N processes (`brm-testchild
sleep 3600`, as bench/run.py configures them):

  start all and wait; 2000 x `status NAME`; 50 x `status` of all;
  an `events` subscription that sees 20 SIGKILL -> restart cycles;
  stop all and wait; SIGTERM.

Prints, per build, brummd's instructions in total and per thread (callgrind
--separate-threads: thread 1 is the loop thread, the others the workers and
the persist writer), and with --base the ratio new/base. Needs valgrind.
"""
import argparse, glob, json, os, signal, socket, subprocess, sys, tempfile, time


def call(f, s, rid, method, params=None):
    req = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        req["params"] = params
    s.sendall(json.dumps(req).encode() + b"\n")
    return json.loads(f.readline())


def run(bindir, n, tmp, label):
    d = tempfile.mkdtemp(prefix=f"brm-insn-{label}-", dir=tmp)
    sock = os.path.join(d, "brummd.sock")
    child = os.path.join(bindir, "brm-testchild")
    names = [f"p{i:04d}" for i in range(n)]
    procs = {nm: {"cmd": [child, "sleep", "3600"], "autostart": False,
                  "start_secs": 0, "restart": "always", "backoff_secs": 0,
                  "min_uptime_secs": 0, "stop_timeout_secs": 5} for nm in names}
    cfg = os.path.join(d, "brummd.json")
    with open(cfg, "w") as fh:
        json.dump({"workers": 2, "processes": procs,
                   "limits": {"max_processes": max(n, 10)}}, fh)
    out = os.path.join(d, "cg.out")
    err = open(os.path.join(d, "brummd.log"), "w")
    p = subprocess.Popen(["valgrind", "--tool=callgrind", "--separate-threads=yes",
                          f"--callgrind-out-file={out}",
                          os.path.join(bindir, "brummd"), "-c", cfg, "-s", sock],
                         stdout=err, stderr=err)
    for _ in range(6000):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            break
        except OSError:
            time.sleep(0.02)
    else:
        raise RuntimeError("brummd did not come up under valgrind: " + err.name)
    f = s.makefile("rb")
    rid = 0

    def c(method, params=None):
        nonlocal rid
        rid += 1
        r = call(f, s, rid, method, params)
        if "error" in r:
            raise RuntimeError(f"{method}: {r['error']}")
        return r["result"]

    c("start", {"all": True, "wait": True})
    for i in range(2000):
        c("status", {"name": names[i % n]})
    for _ in range(50):
        c("status")
    es = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    es.connect(sock)
    ef = es.makefile("rb")
    es.sendall(b'{"jsonrpc":"2.0","id":1,"method":"events","params":{"follow":true}}\n')
    ef.readline()
    for k in range(20):
        nm = names[k % n]
        old = c("status", {"name": nm})["pid"]
        os.kill(old, signal.SIGKILL)
        while True:
            ev = json.loads(ef.readline()).get("params") or {}
            if ev.get("name") == nm and ev.get("to") == "running" and \
               ev.get("pid") not in (None, old):
                break
    es.close()
    c("stop", {"all": True, "wait": True})
    s.close()
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=300)
    per = {}
    for fn in sorted(glob.glob(out + "*")):
        tid = fn.rsplit("-", 1)[-1]
        with open(fn) as fh:
            for line in fh:
                if line.startswith("totals:") or line.startswith("summary:"):
                    per[tid] = int(line.split()[1])
                    break
    return per


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--base")
    ap.add_argument("--n", type=int, default=100)
    a = ap.parse_args()
    builds = [("new", a.bindir)] + ([("base", a.base)] if a.base else [])
    tot = {}
    with tempfile.TemporaryDirectory(prefix="brm-insn-") as tmp:
        for label, bd in builds:
            per = run(os.path.abspath(bd), a.n, tmp, label)
            tot[label] = sum(per.values())
            threads = " ".join(f"{t}:{v / 1e6:.1f}M" for t, v in sorted(per.items()))
            print(f"{label:5} N={a.n} instructions {tot[label] / 1e6:.1f} M  ({threads})")
    if a.base:
        print(f"ratio new/base {tot['new'] / tot['base']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
