#!/usr/bin/env python3
"""bench/portsbench.py -- the cost of `status` of all with "ports": true
(daemon/ports.c: /proc/net/tcp* once, then /proc/PID/fd of every member),
beside a plain status and "stats": true, at N running processes, one in
ten of them listening on a port of 127.0.0.1 (brm-testchild listen).

  python3 bench/portsbench.py [--bindir bin] [N ...]     (default: 100 1000)

Prints, per N, the median and best of 20 calls of each kind, in ms.
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess
import tempfile, time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Brumm:
    def __init__(self, bindir, n):
        self.dir = tempfile.mkdtemp(prefix=f"brm-portsbench-{n}-")
        self.sock = os.path.join(self.dir, "brummd.sock")
        child = os.path.join(bindir, "brm-testchild")
        procs = {}
        for i in range(n):
            cmd = [child, "listen", str(free_port())] if i % 10 == 0 else \
                [child, "sleep", "3600"]
            procs[f"p{i:04d}"] = {"cmd": cmd, "start_secs": 0}
        cfg = os.path.join(self.dir, "brummd.json")
        with open(cfg, "w") as f:
            json.dump({"workers": 4, "processes": procs}, f)
        self.err = open(os.path.join(self.dir, "brummd.log"), "w")
        self.proc = subprocess.Popen([os.path.join(bindir, "brummd"), "-c", cfg,
                                      "-s", self.sock], stderr=self.err, stdout=self.err)
        for _ in range(3000):
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(self.sock)
                self.f = self.s.makefile("rb")
                self.id = 0
                self.call("ping")
                return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("brummd did not come up, see " + self.err.name)

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
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", default="bin")
    ap.add_argument("n", nargs="*", type=int, default=[100, 1000])
    a = ap.parse_args()
    for n in a.n:
        b = Brumm(os.path.abspath(a.bindir), n)
        try:
            for _ in range(600):   # every process running, every listener listening
                r = b.call("status", {"ports": True})["processes"]
                if sum(1 for p in r if p["ports"]) >= n // 10 and \
                   all(p["pid"] for p in r):
                    break
                time.sleep(0.1)
            for label, params in (("plain", {}), ("stats", {"stats": True}),
                                  ("ports", {"ports": True}),
                                  ("stats+ports", {"stats": True, "ports": True})):
                ts = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    b.call("status", params)
                    ts.append((time.perf_counter() - t0) * 1000)
                print(f"N={n} status {label:12s} median {statistics.median(ts):7.2f} ms"
                      f"  best {min(ts):7.2f} ms", flush=True)
            print(f"N={n} listening: {sum(1 for p in r if p['ports'])}", flush=True)
        finally:
            b.stop()


if __name__ == "__main__":
    main()
