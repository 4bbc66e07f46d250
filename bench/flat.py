#!/usr/bin/env python3
"""bench/flat.py -- issue 13, "flat in N": what one process's change costs
as the number of processes grows, for one or two builds of brummd in the
same run (the tree under test and, with --base, an older build beside it).

  python3 bench/flat.py [--quick] --bindir DIR [--base DIR] [--ns 1,100,1000]
  python3 bench/flat.py --stop [--rounds 3] --bindir DIR [--base DIR] [--ns 1000]

Per build and N (processes `brm-testchild sleep 3600`, start_secs 0,
restart always, no backoff, max_processes raised to N):

- start_ms:      `start {"all":true,"wait":true}` until the reply (all running)
- statusall_us:  `status` of all over the socket, p50, reply read to its
                 newline but not parsed (the client's parse is not brummd's)
- restart_us:    SIGKILL of a running process -> its new pid seen, p50/p99,
                 timed from the kill() to the `events` notification that
                 names the new pid (a blocking subscription, never polling)
- loop_insn:     instructions of brummd's loop thread (the main thread) per
                 restart, `perf stat -e instructions -t TID` around the kills
                 (falls back to CPU time per restart when perf cannot count)
- stop_ms:       `stop {"all":true,"wait":true}` until the reply
- rss_kib:       VmRSS after the kills

With --stop, only the two ways down, each --rounds times per build and N
(builds interleaved; the median is reported):

- stop_ms:       as above, after a `start` of all
- stop_cpu:      the loop thread's CPU ms over that stop (schedstat)
- term_ms:       SIGTERM to brummd (after a `start` of all) until brummd has
                 exited, i.e. every child reaped and the state written

and once at N=1000 (or the largest N below): `brummctl status` of all and
`brummctl status NAME` as whole commands beside `/bin/true`, via
`bench_sockbench cmd` (posix_spawn + wait, p50).

Prints a table and one verdict line per issue-13 target it measures
("met" / "MISSED" with the numbers), and flags restart latency at N=1000
over 1.5x that at N=1 as a REGRESSION (exit status 0 either way: a bench
reports, it does not gate). --json FILE writes every figure.
"""
import argparse, json, os, resource, shutil, signal, socket, statistics
import subprocess, sys, time

R = {}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as runbench   # bench/run.py: its brummd driver, same config


class Brumm(runbench.Brumm):
    """run.py's brummd (brm-testchild sleep 3600, start_secs 0, restart
    always, no backoff) with max_processes raised to N."""
    def __init__(self, bindir, n, tmp):
        super().__init__(bindir, n, tmp, limits={"max_processes": max(n, 10)})

    def open_conn(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        return s, s.makefile("rb")

    def call_raw(self, method):
        """The reply line, unparsed."""
        self.id += 1
        self.s.sendall(json.dumps({"jsonrpc": "2.0", "id": self.id,
                                   "method": method}).encode() + b"\n")
        return self.f.readline()


rss_kib = runbench.rss_kib


def thread_cpu_ns(pid):
    with open(f"/proc/{pid}/task/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def restarts(b, kills, victims):
    """Kill victims in turn; time kill() -> the event naming the new pid."""
    es, ef = b.open_conn()
    es.sendall(b'{"jsonrpc":"2.0","id":1,"method":"events","params":{"follow":true}}\n')
    ef.readline()   # the reply confirming the subscription
    lat = []
    for i in range(kills):
        nm = victims[i % len(victims)]
        old = b.call("status", {"name": nm})["pid"]
        t0 = time.perf_counter()
        os.kill(old, signal.SIGKILL)
        while True:
            line = ef.readline()
            if not line:
                raise RuntimeError("events stream closed")
            ev = json.loads(line).get("params") or {}
            if ev.get("name") == nm and ev.get("to") == "running" and \
               ev.get("pid") not in (None, old):
                break
        lat.append((time.perf_counter() - t0) * 1e6)
        time.sleep(0.005)
    es.close()
    lat.sort()
    return lat


def loop_cost(b, kills, victims):
    """Instructions (or ns of CPU) of the loop thread per restart."""
    perf = shutil.which("perf")
    out = os.path.join(b.dir, "perf.txt")
    p = None
    if perf:
        p = subprocess.Popen([perf, "stat", "-x,", "-e", "instructions:u,instructions:k",
                              "-t", str(b.pid), "-o", out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
    c0 = thread_cpu_ns(b.pid)
    restarts(b, kills, victims)
    cpu = (thread_cpu_ns(b.pid) - c0) / kills
    insn = None
    if p:
        p.send_signal(signal.SIGINT)
        p.wait()
        try:
            tot = 0
            with open(out) as f:
                for line in f:
                    parts = line.split(",")
                    if len(parts) > 2 and parts[2].startswith("instructions"):
                        tot += int(parts[0])
            insn = tot / kills if tot else None
        except (OSError, ValueError):
            insn = None
    return insn, cpu


def cmd_p50(sb, count, argv):
    out = subprocess.run([sb, "cmd", str(count)] + argv, check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("cmd_p50 "):
            return float(line.split()[1])
    return float("nan")


def bench_one(tag, bindir, n, a):
    log(f"== {tag}, N={n}")
    b = Brumm(bindir, n, a.tmp)
    k = f"{tag}.{n}"
    try:
        t0 = time.perf_counter()
        b.call("start", {"all": True, "wait": True, "timeout_secs": 600})
        R[f"{k}.start_ms"] = (time.perf_counter() - t0) * 1000
        lat = []
        for _ in range(5 if n >= 10000 else 20):
            t0 = time.perf_counter()
            line = b.call_raw("status")
            lat.append((time.perf_counter() - t0) * 1e6)
        R[f"{k}.statusall_us"] = statistics.median(lat)
        R[f"{k}.statusall_bytes"] = len(line)
        kills = 30 if a.quick else 100
        victims = b.names[:min(n, 50)]
        lat = restarts(b, kills, victims)
        R[f"{k}.restart_p50_us"] = lat[len(lat) // 2]
        R[f"{k}.restart_p99_us"] = lat[min(len(lat) - 1, len(lat) * 99 // 100)]
        insn, cpu = loop_cost(b, 20 if a.quick else 50, victims)
        if insn:
            R[f"{k}.loop_insn"] = insn
        R[f"{k}.loop_cpu_us"] = cpu / 1000
        R[f"{k}.rss_kib"] = rss_kib(b.pid)
        if n == a.cmd_n:
            sb = os.path.join(a.sbdir, "bench_sockbench")
            ctl = os.path.join(bindir, "brummctl")
            cnt = 30 if a.quick else 100
            R[f"{k}.true_us"] = cmd_p50(sb, cnt, ["/bin/true"])
            R[f"{k}.ctlall_us"] = cmd_p50(sb, cnt, [ctl, "--socket", b.sock, "status"])
            R[f"{k}.ctl1_us"] = cmd_p50(sb, cnt, [ctl, "--socket", b.sock, "status", b.names[n // 2]])
            R[f"{k}.true2_us"] = cmd_p50(sb, cnt, ["/bin/true"])
        t0 = time.perf_counter()
        b.call("stop", {"all": True, "wait": True, "timeout_secs": 600})
        R[f"{k}.stop_ms"] = (time.perf_counter() - t0) * 1000
    finally:
        b.stop()


def bench_stop(tag, bindir, n, a):
    """--stop: stop of all, then SIGTERM shutdown, each after a start of all."""
    log(f"== {tag}, N={n} (stop)")
    b = Brumm(bindir, n, a.tmp)
    k = f"{tag}.{n}"
    try:
        b.call("start", {"all": True, "wait": True, "timeout_secs": 600})
        c0, t0 = thread_cpu_ns(b.pid), time.perf_counter()
        b.call("stop", {"all": True, "wait": True, "timeout_secs": 600})
        R.setdefault(f"{k}.stop_ms_all", []).append((time.perf_counter() - t0) * 1000)
        R.setdefault(f"{k}.stop_cpu_all", []).append((thread_cpu_ns(b.pid) - c0) / 1e6)
        b.call("start", {"all": True, "wait": True, "timeout_secs": 600})
        t0 = time.perf_counter()
        b.proc.send_signal(signal.SIGTERM)
        b.proc.wait(600)
        R.setdefault(f"{k}.term_ms_all", []).append((time.perf_counter() - t0) * 1000)
    finally:
        b.stop()


def stop_table(tags, ns):
    keys = ("stop_ms", "stop_cpu", "term_ms")
    out = ["| build | N | stop all ms | its loop CPU ms | SIGTERM until exit ms | rounds |",
           "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for t in tags:
        for n in ns:
            cells = []
            for key in keys:
                v = R.get(f"{t}.{n}.{key}_all", [])
                if v:
                    R[f"{t}.{n}.{key}"] = statistics.median(v)
                cells.append(f"{R.get(f'{t}.{n}.{key}', float('nan')):.0f}")
            out.append(f"| {t} | {n} | " + " | ".join(cells) +
                       f" | {len(R.get(f'{t}.{n}.stop_ms_all', []))} |")
    return "\n".join(out)


COLS = [("start_ms", "start all ms", "%.0f"), ("statusall_us", "status all us", "%.0f"),
        ("restart_p50_us", "restart p50 us", "%.0f"), ("restart_p99_us", "p99 us", "%.0f"),
        ("loop_insn", "loop insn/restart", "%.0f"), ("loop_cpu_us", "loop CPU us/restart", "%.0f"),
        ("stop_ms", "stop all ms", "%.0f"), ("rss_kib", "RSS KiB", "%.0f")]


def table(tags, ns):
    out = ["| build | N | " + " | ".join(c[1] for c in COLS) + " |",
           "| --- | ---: | " + " | ".join("---:" for _ in COLS) + " |"]
    for t in tags:
        for n in ns:
            cells = []
            for key, _, fmt in COLS:
                v = R.get(f"{t}.{n}.{key}")
                cells.append(fmt % v if v is not None else "-")
            out.append(f"| {t} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def verdicts(tag, ns, cmd_n):
    """One line per issue-13 target this run measured, for build @tag."""
    lines = []

    def v(ok, what, nums):
        lines.append(f"{'met   ' if ok else 'MISSED'}  {what}: {nums}")

    def g(n, key):
        return R.get(f"{tag}.{n}.{key}")

    r1, rk = g(1, "restart_p50_us"), g(1000, "restart_p50_us")
    for n, r in ((1, r1), (1000, rk)):
        if r is not None:
            v(r <= 500, f"kill -> new pid p50 <= 0.5 ms at N={n}", f"{r:.0f} us")
    if r1 and rk:
        v(rk <= 1.2 * r1, "restart at N=1000 within 1.2x N=1", f"{rk / r1:.2f}x ({rk:.0f} / {r1:.0f} us)")
        if rk > 1.5 * r1:
            lines.append(f"REGRESSION  restart latency at N=1000 is {rk / r1:.2f}x N=1 (> 1.5x)")
    i1, ik = g(1, "loop_insn"), g(1000, "loop_insn")
    if i1 and ik:
        v(ik <= 1.2 * i1, "no whole-registry pass per change: loop insn/restart N=1000 within 1.2x N=1",
          f"{ik:.0f} / {i1:.0f} = {ik / i1:.2f}x")
    c1, ck = g(1, "loop_cpu_us"), g(1000, "loop_cpu_us")
    if c1 and ck:
        v(ck <= 1.5 * c1, "loop thread CPU per restart N=1000 within 1.5x N=1",
          f"{ck:.0f} / {c1:.0f} us = {ck / c1:.2f}x")
    s = g(1000, "start_ms")
    if s is not None:
        v(s <= 300, "start 1000 until all running <= 300 ms", f"{s:.0f} ms")
    st = g(1000, "stop_ms")
    if st is not None:
        v(st <= 150, "graceful stop of 1000 <= 150 ms", f"{st:.0f} ms")
    rss = g(1000, "rss_kib")
    if rss is not None:
        v(rss <= 16 * 1024, "RSS at N=1000 <= 16 MiB", f"{rss / 1024:.1f} MiB")
    ca, c1, tr = g(cmd_n, "ctlall_us"), g(cmd_n, "ctl1_us"), g(cmd_n, "true_us")
    if ca is not None:
        v(ca <= 4000, f"brummctl status of all at N={cmd_n} <= 4 ms whole command",
          f"{ca / 1000:.2f} ms (/bin/true {tr / 1000:.2f} ms)")
    if c1 is not None and tr:
        floor = min(tr, g(cmd_n, "true2_us") or tr)
        v(c1 <= 1.2 * floor, "brummctl status NAME within 1.2x /bin/true",
          f"{c1:.0f} / {floor:.0f} us = {c1 / floor:.2f}x")
    big = [n for n in ns if n > 1000 and g(n, "start_ms") is not None]
    for n in big:
        f = n / 1000
        for key, what in (("start_ms", "start all"), ("statusall_us", "status of all"),
                          ("stop_ms", "stop all")):
            a, b = g(1000, key), g(n, key)
            if a and b:
                v(b <= 1.5 * f * a, f"{what} grows at most linearly, N=1000 -> {n}",
                  f"{b / a:.1f}x for {f:.1f}x N")
        a, b = g(1000, "restart_p50_us"), g(n, "restart_p50_us")
        if a and b:
            v(b <= 1.2 * a, f"restart latency flat, N=1000 -> {n}", f"{b / a:.2f}x")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--base", help="bindir of an older build, measured beside it")
    ap.add_argument("--ns", help="comma-separated N (default 1,100,1000,10000; quick 1,1000)")
    ap.add_argument("--json", help="write every figure here")
    ap.add_argument("--stop", action="store_true",
                    help="only stop of all and SIGTERM shutdown (default N 1000)")
    ap.add_argument("--rounds", type=int, default=3, help="--stop: rounds per build and N")
    ap.add_argument("--tmp", default=None)
    a = ap.parse_args()
    a.bindir = os.path.abspath(a.bindir)
    a.sbdir = a.bindir
    ns = [int(x) for x in (a.ns or ("1000" if a.stop else "1,1000" if a.quick else "1,100,1000,10000")).split(",")]
    a.cmd_n = max([n for n in ns if n <= 1000] or [ns[0]])
    # brummd holds ~3 descriptors per child: raise the limit (as root, past
    # the hard limit too); an N that does not fit is left out and said so
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * max(ns) + 1024
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, want), max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    lim = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    for i, n in enumerate(ns):
        if 4 * n + 1024 > lim:
            fit = (lim - 1024) // 4 // 500 * 500
            log(f"N={n} does not fit RLIMIT_NOFILE {lim} (~{4 * n + 1024} needed): N={fit} instead")
            ns[i] = fit
    builds = [("new", a.bindir)] + ([("base", os.path.abspath(a.base))] if a.base else [])
    if a.stop:
        for n in ns:
            for _ in range(a.rounds):
                for tag, d in builds:
                    bench_stop(tag, d, n, a)
        print(stop_table([t for t, _ in builds], ns))
        st = R.get(f"new.{ns[-1]}.stop_ms")
        if st is not None and ns[-1] == 1000:
            print(f"\n  {'met   ' if st <= 150 else 'MISSED'}  graceful stop of 1000 <= 150 ms: {st:.0f} ms")
        if a.json:
            with open(a.json, "w") as f:
                json.dump(R, f, indent=1, sort_keys=True)
        return
    # interleaved per N, so both builds see the same machine minute
    for n in ns:
        for tag, d in builds:
            bench_one(tag, d, n, a)
    print(table([t for t, _ in builds], ns))
    for tag, _ in builds:
        print(f"\nverdicts ({tag}, issue 13):")
        for line in verdicts(tag, ns, a.cmd_n):
            print("  " + line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(R, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
