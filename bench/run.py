#!/usr/bin/env python3
"""bench/run.py -- run every brummd benchmark and its baselines in one go,
print one markdown table, write bench/RESULTS.md, bench/results.json and
PNG plots. Python 3 standard library only. See bench/README.md.

  python3 bench/run.py [--quick] [--bindir DIR] [--install]

--install: apt-get install supervisor gnuplot-nox first (as root).
"""
import argparse, datetime, http.client, json, os, platform, resource, shutil
import signal, socket, statistics, subprocess, sys, tempfile, time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
R = {}          # key -> value, everything measured
LOG = []        # commands run, for RESULTS.md


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    LOG.append(" ".join(cmd))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout
    d = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            try:
                d[" ".join(parts[:-1])] = float(parts[-1])
            except ValueError:
                pass
    return d


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_secs(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu_ms(pid, secs):
    c0 = cpu_secs(pid)
    time.sleep(secs)
    return (cpu_secs(pid) - c0) * 1000.0


# ---------------------------------------------------------------- brummd

class Brumm:
    def __init__(self, bindir, n, tmp, limits=None, extra=None):
        self.bindir, self.n = bindir, n
        self.dir = tempfile.mkdtemp(prefix=f"brm-bench-{n}-", dir=tmp)
        self.sock = os.path.join(self.dir, "brummd.sock")
        self.names = [f"p{i:04d}" for i in range(n)]
        child = os.path.join(bindir, "brm-testchild")
        procs = {nm: {"cmd": [child, "sleep", "3600"], "autostart": False,
                      "start_secs": 0, "restart": "always",
                      # no backoff: the crash benchmark kills a process that
                      # ran only ~20 ms, which brummd otherwise throttles
                      "backoff_secs": 0,
                      # and a kill that soon is not a failed start either
                      "min_uptime_secs": 0,
                      "stop_timeout_secs": 5} for nm in self.names}
        cfg = os.path.join(self.dir, "brummd.json")
        with open(cfg, "w") as f:
            json.dump({"workers": 4, "processes": procs,
                       **({"limits": limits} if limits else {}), **(extra or {})}, f)
        self.err = open(os.path.join(self.dir, "brummd.log"), "w")
        cmd = [os.path.join(bindir, "brummd"), "-c", cfg, "-s", self.sock]
        LOG.append(" ".join(cmd[:1] + ["-c", "CFG", "-s", "SOCK"]))
        self.proc = subprocess.Popen(cmd, stderr=self.err, stdout=self.err)
        self.pid = self.proc.pid
        for _ in range(3000):
            if os.path.exists(self.sock):
                try:
                    self.connect()
                    self.call("ping")
                    return
                except OSError:
                    pass
            time.sleep(0.01)
        raise RuntimeError("brummd did not come up, see " + self.err.name)

    def connect(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(self.sock)
        self.f = self.s.makefile("rb")
        self.id = 0

    def call(self, method, params=None):
        self.id += 1
        req = {"jsonrpc": "2.0", "id": self.id, "method": method}
        if params is not None:
            req["params"] = params
        self.s.sendall(json.dumps(req).encode() + b"\n")
        rep = json.loads(self.f.readline())
        if "error" in rep:
            raise RuntimeError(f"{method}: {str(rep['error'])[:300]}")
        return rep["result"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def status_line(name=None):
    req = {"jsonrpc": "2.0", "id": 1, "method": "status"}
    if name:
        req["params"] = {"name": name}
    return json.dumps(req, separators=(",", ":"))


def bench_brummd(a, sb, n, echo_sock):
    log(f"== brummd, N={n}")
    b = Brumm(a.bindir, n, a.tmp)
    k = f"brummd.{n}"
    try:
        t0 = time.perf_counter()
        b.call("start", {"all": True, "wait": True, "timeout_secs": 120})
        R[f"{k}.start_all_ms"] = (time.perf_counter() - t0) * 1000
        mid = b.names[n // 2]
        line1 = status_line(mid)
        cnt = 2000 if a.quick else 10000
        d = run([sb, "lat", b.sock, str(cnt), line1])
        R[f"{k}.status1_p50_us"], R[f"{k}.status1_p99_us"] = d["lat_p50"], d["lat_p99"]
        R[f"{k}.status1_bytes"] = d["reply_bytes"]
        d = run([sb, "lat", echo_sock, str(cnt), line1])
        R[f"{k}.echo_p50_us"], R[f"{k}.echo_p99_us"] = d["lat_p50"], d["lat_p99"]
        # the same through a Python client, to compare with supervisord's
        t0 = time.perf_counter()
        m = 500 if a.quick else 2000
        lat = []
        for _ in range(m):
            t1 = time.perf_counter()
            b.call("status", {"name": mid})
            lat.append((time.perf_counter() - t1) * 1e6)
        R[f"{k}.status1_py_p50_us"] = statistics.median(lat)
        secs = "0.5" if a.quick else "1.5"
        for c in (1, 4, 16):
            d = run([sb, "tput", b.sock, str(c), secs, line1])
            e = run([sb, "tput", echo_sock, str(c), secs, line1])
            R[f"{k}.tput{c}_rps"], R[f"{k}.tput{c}_p50_us"] = d["tput_rps"], d["tput_p50"]
            R[f"{k}.echo_tput{c}_rps"], R[f"{k}.echo_tput{c}_p50_us"] = e["tput_rps"], e["tput_p50"]
        d = run([sb, "lat", b.sock, str(100 if a.quick else 400), status_line()])
        R[f"{k}.statusall_p50_us"], R[f"{k}.statusall_p99_us"] = d["lat_p50"], d["lat_p99"]
        R[f"{k}.statusall_bytes"] = d["reply_bytes"]
        ctl = os.path.join(a.bindir, "brummctl")
        d = run([sb, "cmd", str(100 if a.quick else 300), ctl, "--socket", b.sock, "status", mid])
        R[f"{k}.ctl1_p50_us"], R[f"{k}.ctl1_failed"] = d["cmd_p50"], d["cmd_failed"]
        d = run([sb, "cmd", str(30 if a.quick else 100), ctl, "--socket", b.sock, "status"])
        R[f"{k}.ctlall_p50_us"], R[f"{k}.ctlall_failed"] = d["cmd_p50"], d["cmd_failed"]
        kills = 50 if a.quick else 100
        victims = b.names[:min(n, kills)]
        d = run([sb, "crash", b.sock, str(kills)] + victims)
        for q in ("p50", "p99", "mean", "max"):
            R[f"{k}.crash_{q}_us"] = d[f"crash_{q}"]
        R[f"{k}.crash_n"] = d["crash_n"]
        time.sleep(0.3)
        R[f"{k}.rss_kib"] = rss_kib(b.pid)
        if n >= 1000 or not a.quick:
            R[f"{k}.idle_cpu_ms"] = idle_cpu_ms(b.pid, a.idle)
            R[f"{k}.idle_secs"] = a.idle
        t0 = time.perf_counter()
        b.call("stop", {"all": True, "wait": True, "timeout_secs": 120})
        R[f"{k}.stop_all_ms"] = (time.perf_counter() - t0) * 1000
    finally:
        b.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bench_scrape(a, sb, n):
    """GET /metrics of metrics_listen (issue 16) with N processes running,
    against the status of all over the socket and `brummctl status` of all
    in the same run. The HTTP client is Python's http.client on one
    keep-alive connection, so its time includes reading the body."""
    log(f"== metrics scrape, N={n}")
    port = free_port()
    b = Brumm(a.bindir, n, a.tmp, extra={"metrics_listen": f"127.0.0.1:{port}"})
    k = f"scrape.{n}"
    try:
        b.call("start", {"all": True, "wait": True, "timeout_secs": 120})
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        cnt = 30 if a.quick else 100
        for path, key in (("/metrics", "http"), ("/metrics?stats=1", "http_stats")):
            lat = []
            for _ in range(cnt):
                t1 = time.perf_counter()
                c.request("GET", path)
                body = c.getresponse().read()
                lat.append((time.perf_counter() - t1) * 1e6)
            lat.sort()
            R[f"{k}.{key}_p50_us"] = statistics.median(lat)
            R[f"{k}.{key}_min_us"] = lat[0]
            R[f"{k}.{key}_bytes"] = len(body)
        LOG.append(f"python3 http.client GET http://127.0.0.1:PORT/metrics[?stats=1] x {cnt}")
        c.close()
        d = run([sb, "lat", b.sock, str(cnt), status_line()])
        R[f"{k}.statusall_p50_us"] = d["lat_p50"]
        ctl = os.path.join(a.bindir, "brummctl")
        d = run([sb, "cmd", str(cnt // 3), ctl, "--socket", b.sock, "status"])
        R[f"{k}.ctlall_p50_us"] = d["cmd_p50"]
        d = run([sb, "cmd", str(cnt // 3), ctl, "--socket", b.sock, "metrics"])
        R[f"{k}.ctlmetrics_p50_us"] = d["cmd_p50"]
    finally:
        b.stop()


def scrape_rows(a, add):
    for n in a.ns:
        k = f"scrape.{n}"
        if f"{k}.http_p50_us" not in R:
            continue
        h = R[f"{k}.http_p50_us"]
        tgt = n >= 1000
        add(f"| GET /metrics, N = {n}, us p50 (min; {g(k + '.http_bytes')} B) | {h:.0f} ({g(k + '.http_min_us')}) "
            f"| status of all over socket {g(k + '.statusall_p50_us')}; `brummctl status` {g(k + '.ctlall_p50_us')} "
            f"| {ratio(k + '.http_p50_us', k + '.ctlall_p50_us')} of `brummctl status` | {'<= 5000' if tgt else ''} "
            f"| {verdict(h <= 5000) if tgt else ''} |")
        add(f"| GET /metrics?stats=1 (CPU, memory from /proc), N = {n}, us p50 (min) | "
            f"{g(k + '.http_stats_p50_us')} ({g(k + '.http_stats_min_us')}) | `brummctl metrics` (with /proc) "
            f"{g(k + '.ctlmetrics_p50_us')} | | | |")


# ---------------------------------------------------------------- supervisord

class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


class UnixTransport(xmlrpc.client.Transport):
    """Keeps one HTTP/1.1 connection open (xmlrpc.client reuses it)."""
    def __init__(self, path):
        super().__init__()
        self.path = path

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        self._connection = host, UnixHTTPConnection(self.path)
        return self._connection[1]


def bench_supervisord(a, sb, n):
    log(f"== supervisord, N={n}")
    d = tempfile.mkdtemp(prefix=f"sv-bench-{n}-", dir=a.tmp)
    sock = os.path.join(d, "sv.sock")
    conf = os.path.join(d, "supervisord.conf")
    child = os.path.join(a.bindir, "brm-testchild")
    names = [f"p{i:04d}" for i in range(n)]
    with open(conf, "w") as f:
        f.write(f"""[unix_http_server]
file={sock}
[supervisord]
logfile={d}/supervisord.log
pidfile={d}/supervisord.pid
childlogdir={d}
nodaemon=true
minfds=16384
minprocs=200
loglevel=warn
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{sock}
""")
        for nm in names:
            f.write(f"[program:{nm}]\ncommand={child} sleep 3600\nautostart=false\n"
                    "startsecs=0\nautorestart=true\nstartretries=3\nstopwaitsecs=5\n"
                    "stdout_logfile=NONE\nstderr_logfile=NONE\n")
    LOG.append("supervisord -c CONF (nodaemon, startsecs=0, autorestart=true)")
    p = subprocess.Popen(["supervisord", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    k = f"supervisord.{n}"
    srv = xmlrpc.client.ServerProxy("http://localhost", transport=UnixTransport(sock))
    try:
        for _ in range(1000):
            try:
                srv.supervisor.getState()
                break
            except OSError:
                time.sleep(0.02)
        t0 = time.perf_counter()
        srv.supervisor.startAllProcesses(True)
        R[f"{k}.start_all_ms"] = (time.perf_counter() - t0) * 1000
        mid = names[n // 2]
        lat = []
        for _ in range(200 if a.quick else 1000):
            t1 = time.perf_counter()
            srv.supervisor.getProcessInfo(mid)
            lat.append((time.perf_counter() - t1) * 1e6)
        lat.sort()
        R[f"{k}.status1_p50_us"] = lat[len(lat) // 2]
        R[f"{k}.status1_p99_us"] = lat[int((len(lat) - 1) * 0.99)]
        lat = []
        for _ in range(5 if a.quick else 20):
            t1 = time.perf_counter()
            srv.supervisor.getAllProcessInfo()
            lat.append((time.perf_counter() - t1) * 1e6)
        R[f"{k}.statusall_p50_us"] = statistics.median(lat)
        ctl = shutil.which("supervisorctl")
        dd = run([sb, "cmd", str(5 if a.quick else 20), ctl, "-c", conf, "status", mid])
        R[f"{k}.ctl1_p50_us"] = dd["cmd_p50"]
        dd = run([sb, "cmd", str(3 if a.quick else 10), ctl, "-c", conf, "status"])
        R[f"{k}.ctlall_p50_us"] = dd["cmd_p50"]
        # crash -> new pid, polling getProcessInfo every ~2 ms
        kills = (10 if n < 1000 else 5) if a.quick else (50 if n < 1000 else 20)
        lat = []
        for i in range(kills):
            nm = names[i % n]
            pid = srv.supervisor.getProcessInfo(nm)["pid"]
            t0 = time.perf_counter()
            os.kill(pid, signal.SIGKILL)
            while True:
                np_ = srv.supervisor.getProcessInfo(nm)["pid"]
                if np_ and np_ != pid:
                    break
                if time.perf_counter() - t0 > 10:
                    raise RuntimeError("supervisord did not restart " + nm)
                time.sleep(0.002)
            lat.append((time.perf_counter() - t0) * 1e6)
            time.sleep(0.02)
        lat.sort()
        R[f"{k}.crash_p50_us"] = lat[len(lat) // 2]
        R[f"{k}.crash_p99_us"] = lat[int((len(lat) - 1) * 0.99)]
        R[f"{k}.crash_n"] = len(lat)
        time.sleep(0.3)
        R[f"{k}.rss_kib"] = rss_kib(p.pid)
        if n >= 1000 or not a.quick:
            R[f"{k}.idle_cpu_ms"] = idle_cpu_ms(p.pid, a.idle)
        t0 = time.perf_counter()
        srv.supervisor.stopAllProcesses(True)
        R[f"{k}.stop_all_ms"] = (time.perf_counter() - t0) * 1000
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- report

def g(k, fmt="{:.0f}"):
    v = R.get(k)
    return "–" if v is None else fmt.format(v)


def ratio(x, y, fmt="{:.2f}x"):
    a, b = R.get(x), R.get(y)
    if a is None or b is None or b == 0:
        return "–"
    return fmt.format(a / b)


def verdict(ok):
    return "**met**" if ok else "**MISSED**"


def table(a):
    N = max(a.ns)
    rows = []
    add = rows.append
    add("| measurement | brummd | baseline (same run) | ratio | target | verdict |")
    add("| --- | --- | --- | --- | --- | --- |")
    f3 = "{:.2f}"
    for sc in ("1r", "2r", "2r+w"):
        rcu, at, mu, rw = (R.get(f"reg.read.{v}.{sc}") for v in ("rcu", "atomic", "mutex", "rwlock"))
        ok = rcu <= 2 * at and (sc != "2r+w" or mu >= 10 * rcu)
        add(f"| read one snapshot, {sc}, ns/op | {rcu:.2f} | atomic {at:.2f}, mutex {mu:.1f}, rwlock {rw:.1f} "
            f"| {rcu/at:.2f}x atomic; mutex {mu/rcu:.1f}x, rwlock {rw/rcu:.1f}x slower "
            f"| <= 2x atomic{'; mutex >= 10x' if sc == '2r+w' else ''} | {verdict(ok)} |")
    for sc in ("1r", "2r", "2r+w"):
        l, mu, rw = (R.get(f"reg.lookup.{v}.{sc}") for v in ("rcu", "mutex", "rwlock"))
        tgt = {"1r": "<= mutex 1r", "2r": "", "2r+w": ">= 5x faster than rwlock"}[sc]
        ok = {"1r": l <= mu, "2r": True, "2r+w": rw >= 5 * l}[sc]
        add(f"| name lookup among 1000, {sc}, ns/op | {l:.1f} | mutex {mu:.1f}, rwlock {rw:.1f} "
            f"| mutex {mu/l:.2f}x, rwlock {rw/l:.2f}x | {tgt} | {verdict(ok) if tgt else ''} |")
    allocs = max(v for kk, v in R.items() if kk.startswith("reg.") and kk.endswith(".allocs")
                 and (".rcu." in kk))
    add(f"| allocations per read (RCU read, lookup, status JSON) | {allocs:g} | | | 0 | {verdict(allocs == 0)} |")
    sp = R.get("spawn.brm_spawn.256mib_us_p50")
    add(f"| spawn, caller busy per child, 0 / 256 MiB RSS, us p50 | {g('spawn.brm_spawn.0mib_us_p50')} / {g('spawn.brm_spawn.256mib_us_p50')} "
        f"| fork+exec {g('spawn.fork_exec.0mib_us_p50')} / {g('spawn.fork_exec.256mib_us_p50')}; posix_spawn {g('spawn.posix_spawn.0mib_us_p50')} / {g('spawn.posix_spawn.256mib_us_p50')} "
        f"| fork {ratio('spawn.fork_exec.256mib_us_p50', 'spawn.brm_spawn.256mib_us_p50', '{:.0f}x')} slower at 256 MiB | <= 150 us | "
        f"{verdict(max(R.get('spawn.brm_spawn.0mib_us_p50', 1e9), sp or 1e9) <= 150)} |")
    add(f"| spawn with 3000 fds open (1000 children), us p50 | {g('spawn.brm_spawn.0mibfds_us_p50')} "
        f"| fork+exec {g('spawn.fork_exec.0mibfds_us_p50')}; posix_spawn {g('spawn.posix_spawn.0mibfds_us_p50')} "
        f"| {ratio('spawn.brm_spawn.0mibfds_us_p50', 'spawn.brm_spawn.0mib_us_p50')} of 0 fds | <= 150 us | "
        f"{verdict(R.get('spawn.brm_spawn.0mibfds_us_p50', 1e9) <= 150)} |")
    add(f"| spawn with 3000 fds open through slots (as brummd), us p50; until reaped | "
        f"{g('spawn.brm_spawn.0mibfdsslots_us_p50')}; {g('spawn.brm_spawn.0mibfdsslots_done_us_p50')} "
        f"| without slots {g('spawn.brm_spawn.0mibfds_us_p50')}; {g('spawn.brm_spawn.0mibfds_done_us_p50')} "
        f"| until reaped {ratio('spawn.brm_spawn.0mibfdsslots_done_us_p50', 'spawn.brm_spawn.0mibfds_done_us_p50')} of without | "
        f"<= 0 fds ({g('spawn.brm_spawn.0mib_us_p50')}) x 1.2 | "
        f"{verdict(R.get('spawn.brm_spawn.0mibfdsslots_us_p50', 1e9) <= 1.2 * R.get('spawn.brm_spawn.0mib_us_p50', 0))} |")
    add(f"| floor: run `/bin/true` as a whole command, us p50 | | {g('exec_true_p50_us')} | | | |")
    for n in a.ns:
        k = f"brummd.{n}"
        sv = f"supervisord.{n}"
        has_sv = f"{sv}.start_all_ms" in R
        add(f"| **N = {n}** | | | | | |")
        st = R[f"{k}.start_all_ms"]
        add(f"| start all until running (start_secs 0), ms | {st:.1f} | "
            + (f"supervisord {g(sv + '.start_all_ms')}" if has_sv else "") +
            f" | {ratio(sv + '.start_all_ms', k + '.start_all_ms', '{:.0f}x') if has_sv else ''} | "
            f"{'<= 500' if n == 1000 else ''} | {verdict(st <= 500) if n == 1000 else ''} |")
        p50, e50 = R[f"{k}.status1_p50_us"], R[f"{k}.echo_p50_us"]
        add(f"| status NAME over socket, us p50 / p99 | {p50:.1f} / {g(k + '.status1_p99_us', '{:.1f}')} "
            f"| echo {e50:.1f} / {g(k + '.echo_p99_us', '{:.1f}')}"
            + (f"; supervisord XML-RPC {g(sv + '.status1_p50_us')} / {g(sv + '.status1_p99_us')} (brummd via Python {g(k + '.status1_py_p50_us')})" if has_sv else "")
            + f" | {p50/e50:.2f}x echo" + (f"; supervisord {ratio(sv + '.status1_p50_us', k + '.status1_py_p50_us', '{:.0f}x')} slower" if has_sv else "")
            + f" | <= 1.5x echo | {verdict(p50 <= 1.5 * e50) if n == 1000 else '(' + verdict(p50 <= 1.5 * e50) + ')'} |")
        for c in (1, 4, 16):
            t, e = R[f"{k}.tput{c}_rps"], R[f"{k}.echo_tput{c}_rps"]
            tgt = ">= 0.5x echo" if c == 16 else ""
            add(f"| status throughput, {c} clients, req/s (p50 us) | {t:.0f} ({g(k + f'.tput{c}_p50_us', '{:.0f}')}) "
                f"| echo {e:.0f} ({g(k + f'.echo_tput{c}_p50_us', '{:.0f}')}) | {t/e:.2f}x echo | {tgt} | {verdict(t >= 0.5 * e) if tgt else ''} |")
        sa = R[f"{k}.statusall_p50_us"]
        add(f"| status of all over socket, us p50 ({g(k + '.statusall_bytes')} B) | {sa:.0f} | "
            + (f"supervisord getAllProcessInfo {g(sv + '.statusall_p50_us')}" if has_sv else "")
            + f" | {ratio(sv + '.statusall_p50_us', k + '.statusall_p50_us', '{:.0f}x') if has_sv else ''} | {'<= 2000' if n == 1000 else ''} | {verdict(sa <= 2000) if n == 1000 else ''} |")
        c1 = R[f"{k}.ctl1_p50_us"]
        add(f"| `brummctl status NAME`, whole command, us p50 | {c1:.0f} | "
            + (f"supervisorctl {g(sv + '.ctl1_p50_us')}" if has_sv else "")
            + f" | {ratio(sv + '.ctl1_p50_us', k + '.ctl1_p50_us', '{:.0f}x') if has_sv else ''} | <= 600 | {verdict(c1 <= 600)} |")
        ca = R[f"{k}.ctlall_p50_us"]
        add(f"| `brummctl status` (all), whole command, us p50 | {ca:.0f} | "
            + (f"supervisorctl {g(sv + '.ctlall_p50_us')}" if has_sv else "")
            + f" | {ratio(sv + '.ctlall_p50_us', k + '.ctlall_p50_us', '{:.0f}x') if has_sv else ''} | {'<= 5000' if n == 1000 else ''} | {verdict(ca <= 5000) if n == 1000 else ''} |")
        cr = R[f"{k}.crash_p50_us"]
        add(f"| crash to new pid, us p50 / p99 ({g(k + '.crash_n')} kills) | {cr:.0f} / {g(k + '.crash_p99_us')} | "
            + (f"supervisord {g(sv + '.crash_p50_us')} / {g(sv + '.crash_p99_us')} ({g(sv + '.crash_n')} kills)" if has_sv else "")
            + f" | {ratio(sv + '.crash_p50_us', k + '.crash_p50_us', '{:.0f}x') if has_sv else ''} | <= 500 | {verdict(cr <= 500)} |")
        so = R[f"{k}.stop_all_ms"]
        add(f"| graceful stop of all, ms | {so:.1f} | " + (f"supervisord {g(sv + '.stop_all_ms')}" if has_sv else "")
            + f" | {ratio(sv + '.stop_all_ms', k + '.stop_all_ms', '{:.0f}x') if has_sv else ''} | {'<= 300' if n == 1000 else ''} | {verdict(so <= 300) if n == 1000 else ''} |")
        rss = R[f"{k}.rss_kib"] / 1024
        add(f"| daemon RSS, MiB | {rss:.1f} | " + (f"supervisord {R[sv + '.rss_kib'] / 1024:.1f}" if has_sv else "")
            + f" | {ratio(sv + '.rss_kib', k + '.rss_kib', '{:.1f}x') if has_sv else ''} | {'<= 16' if n == 1000 else ''} | {verdict(rss <= 16) if n == 1000 else ''} |")
        if f"{k}.idle_cpu_ms" in R:
            ic = R[f"{k}.idle_cpu_ms"]
            add(f"| daemon CPU in {a.idle:g} s idle, ms | {ic:.0f} | " + (f"supervisord {g(sv + '.idle_cpu_ms')}" if has_sv and sv + '.idle_cpu_ms' in R else "")
                + f" | | ~0 | {verdict(ic <= 10)} |")
    scrape_rows(a, add)
    if "persist.burst_writes" in R:
        fpc = R["persist.burst_fsyncs_per_change"]
        add(f"| an acknowledged change on disk: 1000 stops over {R['persist.burst_conns']:.0f} connections, "
            f"fsyncs per change; ms per change | {fpc:.3f}; {R['persist.burst_ms_per_change']:.3f} "
            f"| one stop at a time: {R['persist.single_stop_us_p50'] / 1000:.1f} ms p50 (2 fsyncs) | "
            f"{R['persist.burst_writes']:.0f} writes | far below 1 | {verdict(fpc <= 0.2)} |")
    for n in a.svns:
        if n in a.ns:
            continue
        sv = f"supervisord.{n}"
        add(f"| **supervisord only, N = {n}** | | | | | |")
        add(f"| start all / stop all, ms | | {g(sv + '.start_all_ms')} / {g(sv + '.stop_all_ms')} | | | |")
        add(f"| status NAME XML-RPC p50 us; getAllProcessInfo p50 us | | {g(sv + '.status1_p50_us')}; {g(sv + '.statusall_p50_us')} | | | |")
        add(f"| supervisorctl status NAME / all, us | | {g(sv + '.ctl1_p50_us')} / {g(sv + '.ctlall_p50_us')} | | | |")
        add(f"| crash to new pid p50 / p99 us | | {g(sv + '.crash_p50_us')} / {g(sv + '.crash_p99_us')} | | | |")
        add(f"| RSS MiB; idle CPU ms | | {R.get(sv + '.rss_kib', 0) / 1024:.1f}; {g(sv + '.idle_cpu_ms')} | | | |")
    return "\n".join(rows)


def plots(a, outdir):
    if not shutil.which("gnuplot"):
        log("gnuplot missing: no plots")
        return []
    made = []
    dat = os.path.join(a.tmp, "clients.dat")
    N = max(a.ns)
    with open(dat, "w") as f:
        for c in (1, 4, 16):
            f.write(f"{c} {R[f'brummd.{N}.tput{c}_p50_us']} {R[f'brummd.{N}.echo_tput{c}_p50_us']} "
                    f"{R[f'brummd.{N}.tput{c}_rps']} {R[f'brummd.{N}.echo_tput{c}_rps']}\n")
    png = os.path.join(outdir, "status-latency-clients.png")
    gp = f"""set terminal png size 800,500; set output '{png}'
set title 'status NAME (N={N} supervised) vs concurrent clients'; set xlabel 'concurrent clients (persistent connections)'
set ylabel 'p50 latency, us'; set y2label 'requests/s'; set y2tics; set logscale x 2; set key top left; set grid
plot '{dat}' u 1:2 w lp t 'brummd p50 us', '' u 1:3 w lp t 'echo p50 us', '' u 1:4 axes x1y2 w lp t 'brummd req/s', '' u 1:5 axes x1y2 w lp t 'echo req/s'
"""
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
    made.append(png)
    dat2 = os.path.join(a.tmp, "crash.dat")
    with open(dat2, "w") as f:
        for n in sorted(set(a.ns) | set(a.svns)):
            b50 = R.get(f"brummd.{n}.crash_p50_us", float("nan")) / 1000
            b99 = R.get(f"brummd.{n}.crash_p99_us", float("nan")) / 1000
            s50 = R.get(f"supervisord.{n}.crash_p50_us", float("nan")) / 1000
            s99 = R.get(f"supervisord.{n}.crash_p99_us", float("nan")) / 1000
            f.write(f"{n} {b50} {b99} {s50} {s99}\n")
    png2 = os.path.join(outdir, "crash-latency-children.png")
    gp = f"""set terminal png size 800,500; set output '{png2}'
set title 'SIGKILL to new pid visible in status'; set xlabel 'supervised children'; set ylabel 'ms'
set logscale xy; set grid; set key top left; set datafile missing 'nan'
plot '{dat2}' u 1:2 w lp t 'brummd p50', '' u 1:3 w lp t 'brummd p99', '' u 1:4 w lp t 'supervisord p50', '' u 1:5 w lp t 'supervisord p99'
"""
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
    made.append(png2)
    return made


def machine():
    cc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    sv = subprocess.run(["supervisord", "--version"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("supervisord") else "absent"
    return (f"{os.cpu_count()} cores ({model}), kernel {platform.release()}, {cc}, "
            f"Python {platform.python_version()}, supervisord {sv}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bindir", default=os.path.join(os.path.dirname(HERE), "bin"))
    ap.add_argument("--install", action="store_true")
    ap.add_argument("--no-supervisord", action="store_true")
    ap.add_argument("--scrape-only", action="store_true",
                    help="only the metrics scrape (GET /metrics) and its baselines; prints the rows")
    a = ap.parse_args()
    if a.install:
        subprocess.run(["apt-get", "install", "-y", "supervisor", "gnuplot-nox"], check=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    a.ns = [1, 1000] if a.quick else [1, 100, 1000]
    a.svns = [] if a.no_supervisord or not shutil.which("supervisord") else [100, 1000]
    a.idle = 5.0 if a.quick else 30.0
    t_start = time.time()
    a.tmp = tempfile.mkdtemp(prefix="brm-bench-")
    sb = os.path.join(a.bindir, "bench_sockbench")
    if a.scrape_only:
        for n in a.ns:
            bench_scrape(a, sb, n)
        rows = ["| measurement | brummd | baseline (same run) | ratio | target | verdict |",
                "| --- | --- | --- | --- | --- | --- |"]
        scrape_rows(a, rows.append)
        print("\n".join(rows))
        shutil.rmtree(a.tmp, ignore_errors=True)
        return
    echo_sock = os.path.join(a.tmp, "echo.sock")
    echo = subprocess.Popen([sb, "echo", echo_sock, "4"])
    LOG.append(f"{sb} echo SOCK 4")
    try:
        log("== registry micro-benchmarks")
        d = run([os.path.join(a.bindir, "bench_regbench")] + (["0.2", "3"] if a.quick else ["0.5", "7"]))
        for kk, v in d.items():
            if " " not in kk:
                continue
            kind, unit = kk.split()
            R[f"reg.{kind}" if unit == "ns" else f"reg.{kind}.allocs"] = v
        log("== spawn")
        d = run([os.path.join(a.bindir, "bench_spawnbench"), os.path.join(a.bindir, "brm-testchild"),
                 "100" if a.quick else "400", "0", "256"])
        R.update(d)
        d = run([os.path.join(a.bindir, "bench_spawnbench"), os.path.join(a.bindir, "brm-testchild"),
                 "100" if a.quick else "400", "0"], env=dict(os.environ, BRM_BENCH_FDS="3000"))
        R.update(d)
        # as brummd spawns: through descriptor slots taken at start-up
        d = run([os.path.join(a.bindir, "bench_spawnbench"), os.path.join(a.bindir, "brm-testchild"),
                 "100" if a.quick else "400", "0"],
                env=dict(os.environ, BRM_BENCH_FDS="3000", BRM_BENCH_SLOTS="1"))
        R.update(d)
        d = run([sb, "cmd", "100" if a.quick else "300", "/bin/true"])
        R["exec_true_p50_us"] = d["cmd_p50"]
        log("== durable replies (group commit)")
        d = run([os.path.join(a.bindir, "bench_persistbench"), os.path.join(a.bindir, "brummd"),
                 "1000", "50", "50" if a.quick else "200"])
        R.update(d)
        for _ in range(100):
            if os.path.exists(echo_sock):
                break
            time.sleep(0.01)
        for n in a.ns:
            bench_brummd(a, sb, n, echo_sock)
            bench_scrape(a, sb, n)
        for n in a.svns:
            bench_supervisord(a, sb, n)
    finally:
        echo.kill()
        echo.wait()
    tab = table(a)
    print(tab)
    outdir = HERE
    pngs = plots(a, outdir)
    elapsed = time.time() - t_start
    with open(os.path.join(outdir, "results.json" if not a.quick else "results-quick.json"), "w") as f:
        json.dump(R, f, indent=1, sort_keys=True)
    if not a.quick:
        with open(os.path.join(outdir, "RESULTS.md"), "w") as f:
            f.write(f"# Benchmark results\n\nDate: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  \n"
                    f"Machine: {machine()}  \nCommand: `make bench` ({elapsed:.0f} s); raw numbers in "
                    f"`bench/results.json`; how each figure is measured in `bench/README.md`.\n\n"
                    f"{tab}\n\n"
                    + "".join(f"![{os.path.basename(p)}]({os.path.basename(p)})\n\n" for p in pngs)
                    + (open(os.path.join(HERE, "NOTES.md")).read() + "\n" if os.path.exists(os.path.join(HERE, "NOTES.md")) else "")
                    + "## Commands run\n\n```\n" + "\n".join(LOG) + "\n```\n")
    log(f"done in {elapsed:.0f} s")
    shutil.rmtree(a.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
