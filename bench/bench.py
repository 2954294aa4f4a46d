#!/usr/bin/env python3
"""The openbb-files benchmark harness (issue 6). Python 3 stdlib only; run it through bench/run.sh,
which installs wrk/nginx, builds the release binary and cleans up every process on exit.

  bench.py full  [--bin B] --nginx N --work DIR --pidfile F [--reps 3] [--duration 10]
  bench.py quick [--bin B] --nginx N --work DIR --pidfile F [--duration 3] [--min-ratio 0.1]
  bench.py big   [--bin B] --nginx N --work DIR --pidfile F [--size-mb 1024] [--csv PATH]
  bench.py ssrm  [--bin B] --nginx N --work DIR --pidfile F [--ssrm-size-mb 280] [--ssrm-pages 200]

full:  generates the peer's 1,000-row prices CSV (../shared/peers/make_prices.py), starts our
       server, the FastAPI peer (start_peer.sh PORT uvicorn) and nginx serving our exact response
       bytes; checks our rows against the CSV and the peer's rows (parsed JSON, numbers compared
       numerically); loads each in turn with `wrk -t2 -c32 -d10s` (as ../shared/peers/load.sh);
       measures our startup (spawn -> first 200), idle RSS, RSS under load, stripped binary size;
       prints a table, ratios and PASS/MISS per target (exit 1 only when rows are wrong).
quick: the same against nginx only, short runs; exit status 1 when ours/nginx < --min-ratio on
       any path, when a response is wrong, when wrk sees connect/read/write errors or non-2xx, or
       when a server exits. Never judges absolute times (wrk timeouts are reported only).
big:   a ~1 GB minute-bar CSV (bench/make_big_csv.py) served as a widget: time to the first
       filtered response (load speed in MB/s), p50 latency of filtered queries, peak RSS vs size.
ssrm:  a ~5-million-row CSV served as a table_ssrm widget: the first page (load and sort), then
       p50/p99 of later pages for three request shapes (sort, set filter + two sort keys, number
       filters), and peak RSS vs the file size (issue 4); then row grouping (issue 19): the first
       page and later pages of four grouped shapes (100 groups with four aggregates, 53,820
       groups inside one, the leaf rows of a group, 53,820 groups over every row sorted on an
       aggregate), with the server's CPU seconds for each shape's first page.

Every process is started in its own process group, recorded in --pidfile ("PID STARTTIME") for
run.sh's EXIT trap, and stopped here as well. Loopback only: every URL is http://127.0.0.1:PORT.
"""

import argparse
import csv
import datetime
import http.client
import json
import os
import platform
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(os.path.dirname(REPO), "shared", "peers")
PRICES = "/prices?ticker=AAPL"
WIDGETS = "/widgets.json"
PATHS = [PRICES, WIDGETS]

# Targets of issue 6 (full and big modes only print PASS/MISS; they never fail the run).
T_PEER_RATIO = 50.0       # ours/peer requests/s on /prices?ticker=AAPL
T_NGINX_RATIO = 0.5       # ours/nginx requests/s, both paths
T_RSS_IDLE_MB = 8.0
T_RSS_LOAD_MB = 32.0
T_STARTUP_MS = 50.0
T_BINARY_MB = 5.0
T_BIG_MBPS = 300.0
T_BIG_P50_MS = 50.0
T_BIG_RSS_RATIO = 1.5


# --- processes ---------------------------------------------------------------------------------

class Procs:
    """Start processes in their own process groups and stop them all, whatever happens."""

    def __init__(self, pidfile: str):
        self.pidfile = pidfile
        self.live: list[subprocess.Popen] = []

    def start(self, cmd: list[str], **kw) -> subprocess.Popen:
        p = subprocess.Popen(cmd, start_new_session=True, **kw)
        try:
            with open(f"/proc/{p.pid}/stat") as f:
                start = f.read().rsplit(")", 1)[1].split()[19]  # field 22, after "pid (comm)"
        except OSError:
            start = "?"
        with open(self.pidfile, "a") as f:
            f.write(f"{p.pid} {start}\n")
        self.live.append(p)
        return p

    def stop(self, p: subprocess.Popen, timeout: float = 10.0) -> None:
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                break
            try:
                p.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # the group may still hold children (nginx workers) after the leader exits
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if p in self.live:
            self.live.remove(p)

    def stop_all(self) -> None:
        for p in list(self.live):
            self.stop(p)


def rss_kb(pid: int) -> int:
    """Resident set size from /proc (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Sample a process's RSS every `every` seconds in a thread; keep the peak.
    With `kill_above_kb`, kill the process group when RSS passes it (a guard for the big mode)."""

    def __init__(self, pid: int, every: float = 0.05, kill_above_kb: int = 0):
        self.pid, self.every, self.kill_above_kb = pid, every, kill_above_kb
        self.peak_kb, self.killed = 0, False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            kb = rss_kb(self.pid)
            self.peak_kb = max(self.peak_kb, kb)
            if self.kill_above_kb and kb > self.kill_above_kb and not self.killed:
                self.killed = True
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self._done.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()


def cpu_ticks() -> tuple[int, int]:
    """CPU time of the whole machine in clock ticks (/proc/stat): (busy, steal). Busy is what
    processes and the kernel used (not idle, iowait or steal); steal is time the hypervisor gave
    this VM's CPUs to others, which no process here can account for."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    steal = v[7] if len(v) > 7 else 0
    return sum(v) - v[3] - v[4] - steal, steal


def group_ticks(pgids: set[int]) -> int:
    """CPU time (utime + stime) of the live processes in these process groups, in clock ticks."""
    total = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in pgids:  # field 5, pgrp
                total += int(fields[11]) + int(fields[12])  # fields 14, 15
    return total


class OtherLoad:
    """CPU used by processes outside this benchmark during a block, as % of the machine.
    Ours = the given process groups plus the children this process waited for (wrk)."""

    def __init__(self, pgids: set[int]):
        self.pgids, self.percent, self.steal = pgids, 0.0, 0.0

    def __enter__(self):
        self.t, self.ours = time.monotonic(), group_ticks(self.pgids)
        self.busy, self.stolen = cpu_ticks()
        self.kids = os.times().children_user + os.times().children_system
        return self

    def __exit__(self, *exc):
        hz = os.sysconf("SC_CLK_TCK")
        machine = hz * (time.monotonic() - self.t) * (os.cpu_count() or 1)
        kids = (os.times().children_user + os.times().children_system - self.kids) * hz
        busy, stolen = cpu_ticks()
        other = (busy - self.busy) - (group_ticks(self.pgids) - self.ours) - kids
        self.percent = max(0.0, 100.0 * other / machine)
        self.steal = 100.0 * (stolen - self.stolen) / machine


def wait_quiet(limit_s: float, below: float = 10.0) -> float:
    """Wait (at most limit_s) for a second in which other processes use < `below`% of the CPUs;
    return the last measured %. Our servers are idle between runs, so all load is theirs."""
    deadline = time.monotonic() + limit_s
    while True:
        with OtherLoad(set()) as o:
            time.sleep(1)
        if o.percent < below or time.monotonic() >= deadline:
            return o.percent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP --------------------------------------------------------------------------------------

def get(port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_200(port: int, path: str, t0: float, timeout: float, proc=None) -> float:
    """Poll until GET path answers 200; return seconds since t0."""
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with status {proc.returncode} before answering")
        try:
            status, _ = get(port, path, timeout=max(1.0, deadline - time.monotonic()))
            if status == 200:
                return time.monotonic() - t0
        except OSError:
            pass
        time.sleep(0.001)
    raise TimeoutError(f"no 200 from 127.0.0.1:{port}{path} within {timeout:.0f}s")


def read_line(stream, timeout: float) -> str:
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    if not sel.select(timeout):
        raise TimeoutError("no output line within %.0fs" % timeout)
    return stream.readline().decode()


# --- wrk ---------------------------------------------------------------------------------------

def to_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]


def wrk(port: int, path: str, duration: float, threads: int = 2, conns: int = 32,
        timeout: str = "2s", rss_pid: int = 0) -> dict:
    """Run wrk with --latency (as load.sh does) and parse its report; sample RSS of rss_pid."""
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", f"--timeout={timeout}", "--latency",
           f"http://127.0.0.1:{port}{path}"]
    sampler = RssSampler(rss_pid) if rss_pid else None
    if sampler:
        sampler.__enter__()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120).stdout
    finally:
        if sampler:
            sampler.__exit__()
    res = {"rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "non2xx": 0, "errors": 0, "timeouts": 0,
           "requests": 0, "rss_peak_kb": sampler.peak_kb if sampler else 0}
    for line in out.splitlines():
        s = line.split()
        if line.startswith("Requests/sec:"):
            res["rps"] = float(s[1])
        elif re.match(r"^\s+50%\s", line):
            res["p50_ms"] = to_ms(s[1])
        elif re.match(r"^\s+99%\s", line):
            res["p99_ms"] = to_ms(s[1])
        elif "Non-2xx" in line:
            res["non2xx"] = int(s[-1])
        elif "Socket errors" in line:
            kinds = dict((k, int(n)) for k, n in re.findall(r"(\w+) (\d+)", line.split(":", 1)[1]))
            res["errors"] = sum(kinds.values())
            res["timeouts"] = kinds.get("timeout", 0)
            res["errors_detail"] = line.split(":", 1)[1].strip()
        elif re.match(r"^\s+\d+ requests in", line):
            res["requests"] = int(s[0])
    if res["requests"] == 0:
        res["errors"] += 1
        res["raw"] = out
    return res


# --- rows --------------------------------------------------------------------------------------

def norm(v):
    """Compare numbers numerically (185.0 == 185), everything else as is."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def norm_rows(rows) -> list:
    return [{k: norm(v) for k, v in r.items()} for r in rows]


def csv_rows(path: str, ticker: str) -> list:
    def cell(s: str):
        try:
            return float(s)
        except ValueError:
            return s
    with open(path, newline="") as f:
        return [{k: cell(v) for k, v in r.items()} for r in csv.DictReader(f) if r["ticker"] == ticker]


def first_diff(a: list, b: list) -> str:
    if len(a) != len(b):
        return f"{len(a)} rows vs {len(b)} rows"
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"row {i}: {x} vs {y}"
    return "equal"


# --- servers -----------------------------------------------------------------------------------

def start_ours(procs: Procs, binary: str, root: str, log: str) -> tuple[subprocess.Popen, int, float]:
    """Spawn with --port 0; return (proc, port, seconds from spawn to the first 200 on PRICES)."""
    t0 = time.monotonic()
    with open(log, "ab") as lf:
        p = procs.start([binary, "--root", root, "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=lf)
    line = read_line(p.stdout, 10)
    m = re.match(r"listening on http://127\.0\.0\.1:(\d+)", line)
    if not m:
        raise RuntimeError(f"unexpected first line from our server: {line!r}")
    port = int(m.group(1))
    return p, port, wait_200(port, PRICES, t0, 10, p)


NGINX_CONF = """\
# nginx serving openbb-files' exact response bytes (generated by bench/bench.py)
daemon off;
master_process on;
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 65;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ }}
    default_type application/json;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location = /prices {{ try_files /prices.json =404; }}
        location = /widgets.json {{ try_files /widgets.json =404; }}
    }}
}}
"""


def start_nginx(procs: Procs, nginx: str, work: str, www: str, expect: dict) -> tuple[subprocess.Popen, int]:
    d = os.path.join(work, "nginx")
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
    port = free_port()
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(workers="auto", dir=d, www=www, port=port))
    with open(os.path.join(d, "stdout.log"), "ab") as lf:
        p = procs.start([nginx, "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf], stdout=lf, stderr=lf)
    wait_200(port, PRICES, time.monotonic(), 10, p)
    for path, body in expect.items():
        status, got = get(port, path)
        if status != 200 or got != body:
            raise RuntimeError(f"nginx does not serve our bytes for {path} (status {status})")
    return p, port


def start_peer(procs: Procs, csv_path: str, log: str) -> tuple[subprocess.Popen, int, float]:
    port = free_port()
    env = dict(os.environ, PRICES_CSV=csv_path)
    venv = env.get("PEER_VENV", "/tmp/peers/venv")
    if not os.path.exists(os.path.join(venv, "bin", "uvicorn")):
        print(f"   (first start: start_peer.sh installs its venv in {venv}; this takes minutes)", flush=True)
    t0 = time.monotonic()
    with open(log, "ab") as lf:
        p = procs.start([os.path.join(PEERS, "start_peer.sh"), str(port), "uvicorn"], stdout=lf, stderr=lf, env=env)
    return p, port, wait_200(port, PRICES, t0, 1800, p)


# --- reporting ---------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def mib(kb: float) -> float:
    return kb / 1024


def machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.node()}: {os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def load_avg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def stripped_size(binary: str, work: str) -> int:
    copy = os.path.join(work, "openbb-files.stripped")
    shutil.copyfile(binary, copy)
    subprocess.run(["strip", copy], check=True)
    return os.path.getsize(copy)


def prepare_root(work: str, generate: bool) -> tuple[str, str]:
    """A copy of the bundled example (widgets.json, apps.json, data/) whose data/prices.csv is the
    peer's generated 1,000-row CSV. Returns (root, prices_csv)."""
    root = os.path.join(work, "root")
    shutil.copytree(os.path.join(REPO, "data"), os.path.join(root, "data"))
    for name in ("widgets.json", "apps.json"):
        shutil.copy(os.path.join(REPO, name), root)
    prices = os.path.join(root, "data", "prices.csv")
    maker = os.path.join(PEERS, "make_prices.py")
    if generate or os.path.exists(maker):
        subprocess.run([sys.executable, maker, prices], check=True)
        print(f"   data: {maker} -> {prices}")
    else:
        print(f"   data: {maker} not found; using the bundled data/prices.csv (the same 1,000 rows)")
    return root, prices


def save_ours(port: int, work: str) -> tuple[str, dict]:
    www = os.path.join(work, "www")
    os.makedirs(www)
    os.chmod(www, 0o755)
    saved = {}
    for path, name in ((PRICES, "prices.json"), (WIDGETS, "widgets.json")):
        status, body = get(port, path)
        if status != 200:
            raise RuntimeError(f"our server answered {status} to {path}")
        with open(os.path.join(www, name), "wb") as f:
            f.write(body)
        saved[path] = body
        print(f"   saved our {path}: {len(body)} bytes")
    return www, saved


def check_rows(label: str, ours: list, other: list) -> bool:
    d = first_diff(norm_rows(ours), norm_rows(other))
    print(f"   rows: ours vs {label}: {len(ours)} vs {len(other)} rows, {'equal' if d == 'equal' else 'DIFFER: ' + d}")
    return d == "equal"


def print_table(results: dict, servers: list[str]) -> None:
    """results[path][server] = list of wrk dicts (one per rep)."""
    print()
    print(f"{'path':<22} {'server':<8} {'req/s':>10} {'p50 ms':>9} {'p99 ms':>9} {'non2xx':>7} {'errors':>7} "
          f"{'other%':>7} {'steal%':>7}  per-rep req/s")
    for path in PATHS:
        for s in servers:
            runs = results[path].get(s)
            if not runs:
                continue
            print(f"{path:<22} {s:<8} {med(runs, 'rps'):>10.0f} {med(runs, 'p50_ms'):>9.3f} "
                  f"{med(runs, 'p99_ms'):>9.3f} {sum(r['non2xx'] for r in runs):>7} "
                  f"{sum(r['errors'] for r in runs):>7} {med(runs, 'other_pct'):>7.0f} {med(runs, 'steal_pct'):>7.0f}  "
                  f"{[round(r['rps']) for r in runs]}")
    print("(medians over reps; other% = CPU used by processes outside this benchmark during the run, "
          "steal% = CPU time the hypervisor gave to other VMs; both as % of all CPUs)")


def med(runs: list, key: str) -> float:
    return statistics.median(r[key] for r in runs)


# --- modes -------------------------------------------------------------------------------------

def run_full_or_quick(args, procs: Procs) -> int:
    quick = args.mode == "quick"
    servers = ["ours", "nginx"] if quick else ["ours", "peer", "nginx"]
    print(f"== openbb-files benchmark, {args.mode} mode, {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"   machine: {machine()}; load average {load_avg()}")
    print(f"   wrk -t2 -c32 -d{args.duration}s, {args.reps} rep(s), loopback 127.0.0.1; "
          "wrk and the servers share the CPUs")
    ok = True
    root, prices_csv = prepare_root(args.work, generate=not quick)
    log = os.path.join(args.work, "server.log")

    # startup: spawn -> first 200 on /prices?ticker=AAPL, a few times (median)
    starts = []
    for _ in range(args.startups):
        p, _, secs = start_ours(procs, args.bin, root, log)
        starts.append(secs * 1000)
        procs.stop(p)
    print(f"   startup (spawn -> first 200 on {PRICES}): median {statistics.median(starts):.1f} ms, "
          f"all {[round(s, 1) for s in starts]}")

    ours, port, _ = start_ours(procs, args.bin, root, log)
    www, saved = save_ours(port, args.work)
    ours_rows = json.loads(saved[PRICES])
    ok &= check_rows("the CSV's AAPL rows", ours_rows, csv_rows(prices_csv, "AAPL"))
    time.sleep(1)
    rss_idle = rss_kb(ours.pid)
    print(f"   our RSS idle (after the first requests): {mib(rss_idle):.1f} MiB")

    # name -> [proc, port, restart()]; a server that dies (on a shared machine another session
    # may kill it) is restarted and its run repeated, and every restart is reported.
    def restart_ours():
        p, prt, _ = start_ours(procs, args.bin, root, log)
        return p, prt
    live = {"ours": [ours, port, restart_ours]}
    ng, ng_port = start_nginx(procs, args.nginx, args.work, www, saved)
    live["nginx"] = [ng, ng_port, lambda: start_nginx(procs, args.nginx, args.work, www, saved)]
    print(f"   nginx on port {ng_port} serves our exact bytes for {PATHS}")

    rows_equal_peer = None
    if not quick:
        peer, peer_port, peer_start = start_peer(procs, prices_csv, os.path.join(args.work, "peer.log"))
        live["peer"] = [peer, peer_port, lambda: start_peer(procs, prices_csv, os.path.join(args.work, "peer.log"))[:2]]
        print(f"   FastAPI peer (uvicorn) on port {peer_port}, first 200 after {peer_start:.1f} s")
        status, body = get(peer_port, PRICES)
        rows_equal_peer = status == 200 and check_rows("the peer's", ours_rows, json.loads(body))
        ok &= rows_equal_peer

    restarts = []

    def measure(s: str, path: str) -> dict:
        for attempt in range(3):
            proc = live[s][0]
            if proc.poll() is not None:
                restarts.append(f"{s} exited with status {proc.returncode} before a run on {path}")
                print(f"   WARNING: {restarts[-1]}; restarting it", flush=True)
                procs.stop(proc)
                live[s][0], live[s][1] = live[s][2]()
                proc = live[s][0]
            quiet = wait_quiet(args.quiet_wait) if args.quiet_wait else float("nan")
            if args.warmup:
                wrk(live[s][1], path, args.warmup)
            with OtherLoad({v[0].pid for v in live.values()}) as other:
                r = wrk(live[s][1], path, args.duration, rss_pid=proc.pid if s == "ours" else 0)
            r["other_pct"], r["steal_pct"], r["quiet_pct"] = other.percent, other.steal, quiet
            if r["errors"]:
                time.sleep(0.5)  # a server stopped by a signal answers what it has, then exits
            if proc.poll() is None and r["requests"] > 0:
                return r
            restarts.append(f"{s} exited with status {proc.returncode} during a run on {path}")
            print(f"   WARNING: {restarts[-1]}; repeating the run", flush=True)
        return r

    results = {path: {s: [] for s in servers} for path in PATHS}
    for rep in range(args.reps):
        for path in PATHS:
            for s in servers:
                r = measure(s, path)
                results[path][s].append(r)
                print(f"   rep {rep + 1} {path:<20} {s:<6} {r['rps']:>9.0f} req/s  p50 {r['p50_ms']:.3f} ms  "
                      f"p99 {r['p99_ms']:.3f} ms" + (f"  our RSS peak {mib(r['rss_peak_kb']):.1f} MiB" if s == "ours" else "")
                      + (f"  non2xx {r['non2xx']}" if r["non2xx"] else "") + (f"  socket errors: {r.get('errors_detail')}" if r["errors"] else "")
                      + f"  [other processes: {r['other_pct']:.0f}% CPU, steal {r['steal_pct']:.0f}%]", flush=True)
    ours = live["ours"][0]
    rss_after = rss_kb(ours.pid)
    rss_load = max(r["rss_peak_kb"] for path in PATHS for r in results[path]["ours"])
    print_table(results, servers)

    ratios = {}
    print()
    for path in PATHS:
        for other in servers[1:]:
            ratios[(path, other)] = med(results[path]["ours"], "rps") / max(med(results[path][other], "rps"), 1e-9)
            note = " (the peer serves a different, hand-written widgets.json)" if other == "peer" and path == WIDGETS else ""
            print(f"   ours/{other:<5} {path:<22} {ratios[(path, other)]:8.2f}x{note}")
    # wrk counts a request slower than its --timeout (2 s) as a "timeout" socket error: that is a
    # latency, so it is reported, but only real errors (connect/read/write, non-2xx) fail a check.
    errors = sum(r["non2xx"] + r["errors"] - r["timeouts"] for path in PATHS for r in results[path]["ours"])
    timeouts = sum(r["timeouts"] for path in PATHS for r in results[path]["ours"])
    size = stripped_size(args.release_bin, args.work)
    print(f"   our RSS: idle {mib(rss_idle):.1f} MiB, peak under load {mib(rss_load):.1f} MiB, "
          f"after load {mib(rss_after):.1f} MiB")
    print(f"   stripped release binary: {size / 1e6:.2f} MB ({size} bytes); unstripped "
          f"{os.path.getsize(args.release_bin) / 1e6:.2f} MB")
    print(f"   load average at the end: {load_avg()}")
    if restarts:
        print(f"   NOTE: {len(restarts)} server restart(s) during the run: {restarts}")

    if quick:
        print(f"\n== quick check: fail when ours/nginx < {args.min_ratio} on a path, a response is wrong, "
              "wrk sees errors (not timeouts), or a server exits")
        for path in PATHS:
            r = ratios[(path, "nginx")]
            good = r >= args.min_ratio
            ok &= good
            print(f"   {'ok  ' if good else 'FAIL'} ours/nginx {path:<22} {r:.2f}x (minimum {args.min_ratio}x)")
        if restarts:
            print(f"   FAIL a server exited during the run ({len(restarts)} restart(s))")
            ok = False
        if errors:
            print(f"   FAIL wrk saw {errors} non-2xx responses or connect/read/write errors from our server")
            ok = False
        if timeouts:
            print(f"   note: {timeouts} of our responses took longer than wrk's 2 s timeout (not a failure)")
        print(f"\n{'OK' if ok else 'FAILED'}")
        return 0 if ok else 1

    print("\n== targets (issue 6); figures above, PASS/MISS here")
    rows = [
        (f"ours/peer req/s on {PRICES} >= {T_PEER_RATIO:.0f}x", ratios[(PRICES, "peer")] >= T_PEER_RATIO,
         f"{ratios[(PRICES, 'peer')]:.1f}x"),
        (f"ours/nginx req/s on {PRICES} >= {T_NGINX_RATIO}x", ratios[(PRICES, "nginx")] >= T_NGINX_RATIO,
         f"{ratios[(PRICES, 'nginx')]:.2f}x"),
        (f"ours/nginx req/s on {WIDGETS} >= {T_NGINX_RATIO}x", ratios[(WIDGETS, "nginx")] >= T_NGINX_RATIO,
         f"{ratios[(WIDGETS, 'nginx')]:.2f}x"),
        (f"RSS idle <= {T_RSS_IDLE_MB:.0f} MB", mib(rss_idle) <= T_RSS_IDLE_MB, f"{mib(rss_idle):.1f} MiB"),
        (f"RSS under load <= {T_RSS_LOAD_MB:.0f} MB", mib(rss_load) <= T_RSS_LOAD_MB, f"{mib(rss_load):.1f} MiB"),
        (f"first 200 within {T_STARTUP_MS:.0f} ms of spawn (median)", statistics.median(starts) <= T_STARTUP_MS,
         f"{statistics.median(starts):.1f} ms"),
        (f"stripped binary <= {T_BINARY_MB:.0f} MB", size / 1e6 <= T_BINARY_MB, f"{size / 1e6:.2f} MB"),
        ("our rows equal the peer's", bool(rows_equal_peer), "equal" if rows_equal_peer else "differ"),
        ("no non-2xx or connect/read/write errors from ours", errors == 0, str(errors)),
        ("no response of ours slower than wrk's 2 s timeout", timeouts == 0, str(timeouts)),
        ("no server exited during the run", not restarts, f"{len(restarts)} restart(s)"),
    ]
    for name, good, figure in rows:
        print(f"   {verdict(good)}  {name:<52} {figure}")
    # targets are reported, not enforced; wrong rows make the whole run invalid
    return 0 if ok else 1


def run_big(args, procs: Procs) -> int:
    print(f"== openbb-files big-file benchmark, {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"   machine: {machine()}; load average {load_avg()}")
    root = os.path.join(args.work, "big")
    os.makedirs(os.path.join(root, "data"))
    csv_path = os.path.join(root, "data", "prices.csv")
    t = time.monotonic()
    if args.csv:
        if not os.path.exists(args.csv):
            subprocess.run([sys.executable, os.path.join(REPO, "bench", "make_big_csv.py"), args.csv,
                            "--size-mb", str(args.size_mb)], check=True)
        try:
            os.link(args.csv, csv_path)
        except OSError:
            shutil.copyfile(args.csv, csv_path)
        # A given file may have left the page cache (a generated one was just written): read it
        # once, so that the load speed measures parsing, not the disk.
        with open(csv_path, "rb") as f:
            while f.read(8 << 20):
                pass
    else:
        subprocess.run([sys.executable, os.path.join(REPO, "bench", "make_big_csv.py"), csv_path,
                        "--size-mb", str(args.size_mb)], check=True)
    size = os.path.getsize(csv_path)
    with open(csv_path, "rb") as f:
        f.seek(max(0, size - 200))
        last_day = f.read().decode().strip().splitlines()[-1][:10]
    print(f"   CSV: {size / 1e6:.0f} MB ({size} bytes), 100 tickers x 390 minutes a day up to {last_day}, "
          f"made in {time.monotonic() - t:.1f} s (in the temporary directory, removed at exit)")
    with open(os.path.join(root, "widgets.json"), "w") as f:
        json.dump({"prices": {"name": "Minute prices", "description": "Big-file benchmark", "type": "table",
                              "endpoint": "prices", "params": [
                                  {"paramName": "ticker", "type": "text", "value": "T042"},
                                  {"paramName": "start_date", "type": "date", "value": "2022-01-03"},
                                  {"paramName": "end_date", "type": "date", "value": "2022-01-03"}]}}, f)

    day = "2022-06-01"
    first_q = f"/prices?ticker=T001&start_date={day}&end_date={day}"
    queries = [(f"/prices?ticker=T042&start_date={day}&end_date={day}", "one ticker, one day (390 rows)"),
               ("/prices?ticker=T042", "one ticker, all days (1% of the file)")]
    mem_total_kb = int(open("/proc/meminfo").read().split()[1])
    guard_kb = int(mem_total_kb * 0.6)

    log = os.path.join(args.work, "server.log")
    t0 = time.monotonic()
    with open(log, "ab") as lf:
        p = procs.start([args.bin, "--root", root, "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=lf)
    results = {}
    with RssSampler(p.pid, every=0.05, kill_above_kb=guard_kb) as sampler:
        line = read_line(p.stdout, 10)
        port = int(re.match(r"listening on http://127\.0\.0\.1:(\d+)", line).group(1))
        t_req = time.monotonic()
        with OtherLoad({p.pid}) as during_load:
            try:
                status, body = get(port, first_q, timeout=args.first_timeout)
            except OSError as e:
                status, body = 0, str(e).encode()
        t_first = time.monotonic() - t0
        t_req = time.monotonic() - t_req
        if status != 200:
            print(f"   first request {first_q}: status {status} after {t_first:.1f} s"
                  + (" (killed: RSS passed 60% of RAM)" if sampler.killed else "") + f": {body[:300]!r}")
            print(f"   server log tail: {open(log).read()[-500:]!r}")
            print(f"\n   MISS  load speed >= {T_BIG_MBPS:.0f} MB/s: no answer")
            return 0
        rows = json.loads(body)
        mbps = size / 1e6 / t_first
        print(f"   first response ({first_q}): {len(rows)} rows after {t_first:.2f} s from spawn "
              f"({t_req:.2f} s for the request) -> {mbps:.0f} MB/s  [during it: other processes "
              f"{during_load.percent:.0f}% CPU, steal {during_load.steal:.0f}%]")
        rss_after_first = rss_kb(p.pid)
        for q, label in queries:
            status, body = get(port, q, timeout=args.first_timeout)
            n = len(json.loads(body)) if status == 200 else 0
            r = wrk(port, q, args.big_duration, threads=1, conns=1, timeout="60s")
            results[q] = (label, n, len(body), r)
            print(f"   {q}: {label}: status {status}, {n} rows, {len(body) / 1e6:.2f} MB; sequential (wrk -t1 -c1 "
                  f"-d{args.big_duration}s): p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, {r['requests']} requests"
                  + (f", non2xx {r['non2xx']}" if r["non2xx"] else ""), flush=True)
        rss_now = rss_kb(p.pid)
    peak = sampler.peak_kb
    print(f"   our RSS: after the first response {rss_after_first / 1024:.0f} MiB, at the end {rss_now / 1024:.0f} MiB, "
          f"peak {peak / 1024:.0f} MiB = {peak * 1024 / size:.2f}x the file size")
    procs.stop(p)

    print("\n== targets (big files)")
    lines = [(f"load speed >= {T_BIG_MBPS:.0f} MB/s (size / spawn -> first response)", mbps >= T_BIG_MBPS,
              f"{mbps:.0f} MB/s")]
    for q, (label, n, _, r) in results.items():
        lines.append((f"p50 <= {T_BIG_P50_MS:.0f} ms, {label}", r["p50_ms"] <= T_BIG_P50_MS and r["non2xx"] == 0,
                      f"{r['p50_ms']:.1f} ms"))
    lines.append((f"peak RSS < {T_BIG_RSS_RATIO}x the file size", peak * 1024 / size < T_BIG_RSS_RATIO,
                  f"{peak * 1024 / size:.2f}x"))
    for name, good, figure in lines:
        print(f"   {verdict(good)}  {name:<58} {figure}")
    return 0


def post_json(port: int, path: str, body: dict, timeout: float = 600.0) -> tuple[int, bytes, float]:
    """POST a JSON body on a new connection; returns status, body and seconds taken."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t = time.monotonic()
    conn.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data, time.monotonic() - t


def run_ssrm(args, procs: Procs) -> int:
    """Server-side row model over a ~5-million-row CSV (issue 4): first page (the load), then the
    p50/p99 of later pages for three request shapes, and RSS against the file size."""
    print(f"== openbb-files server-side table benchmark, {datetime.datetime.now().isoformat(timespec='seconds')}")
    print(f"   machine: {machine()}; load average {load_avg()}")
    root = os.path.join(args.work, "ssrm")
    os.makedirs(os.path.join(root, "data"))
    csv_path = os.path.join(root, "data", "bars.csv")
    subprocess.run([sys.executable, os.path.join(REPO, "bench", "make_big_csv.py"), csv_path,
                    "--size-mb", str(args.ssrm_size_mb)], check=True)
    size = os.path.getsize(csv_path)
    with open(csv_path, "rb") as f:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1
    print(f"   CSV: {size / 1e6:.0f} MB, {rows:,} rows")
    with open(os.path.join(root, "widgets.json"), "w") as f:
        json.dump({"bars": {"name": "Minute bars", "description": "SSRM benchmark", "type": "table_ssrm",
                            "endpoint": "bars"}}, f)
    shapes = [
        ("no filter, sorted by close desc", {"sortModel": [{"colId": "close", "sort": "desc"}], "filterModel": {}}),
        ("two tickers (set filter), sorted by date desc then close",
         {"sortModel": [{"colId": "date", "sort": "desc"}, {"colId": "close", "sort": "asc"}],
          "filterModel": {"ticker": {"filterType": "set", "values": ["T001", "T002"]}}}),
        ("close > 250 and volume in range, unsorted",
         {"sortModel": [], "filterModel": {
             "close": {"filterType": "number", "type": "greaterThan", "filter": 250},
             "volume": {"filterType": "number", "type": "inRange", "filter": 1000, "filterTo": 20000}}}),
    ]
    log = os.path.join(args.work, "server.log")
    t0 = time.monotonic()
    with open(log, "ab") as lf:
        p = procs.start([args.bin, "--root", root, "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=lf)
    verdicts = []
    with RssSampler(p.pid, every=0.05) as sampler:
        port = int(re.match(r"listening on http://127\.0\.0\.1:(\d+)", read_line(p.stdout, 10)).group(1))
        status, body, took = post_json(port, "/bars", {"startRow": 0, "endRow": 100, **shapes[0][1]})
        answer = json.loads(body)
        print(f"   first page (load + sort): status {status}, rowCount {answer.get('rowCount')}, "
              f"{took:.2f} s ({time.monotonic() - t0:.2f} s from spawn)")
        for label, shape in shapes:
            status, body, first = post_json(port, "/bars", {"startRow": 0, "endRow": 100, **shape})
            count = json.loads(body)["rowCount"]
            p50, p99 = later_pages(port, shape, count, args.ssrm_pages)
            print(f"   {label}: rowCount {count:,}; first {first * 1000:.0f} ms; "
                  f"later pages p50 {p50:.1f} ms, p99 {p99:.1f} ms over {args.ssrm_pages} pages")
            verdicts.append((f"p50 of later pages < 50 ms: {label}", p50 < 50, f"{p50:.1f} ms"))
        verdicts.extend(time_grouped_shapes(port, p.pid, args.ssrm_pages))
    peak = sampler.peak_kb
    print(f"   our RSS: peak {peak / 1024:.0f} MiB = {peak * 1024 / size:.2f}x the file size")
    verdicts.append(("peak RSS < 2x the file size", peak * 1024 / size < 2, f"{peak * 1024 / size:.2f}x"))
    procs.stop(p)
    print("\n== targets (server-side row model, issue 4)")
    for name, good, figure in verdicts:
        print(f"   {verdict(good)}  {name:<70} {figure}")
    return 0


def later_pages(port: int, shape: dict, count: int, pages: int) -> tuple[float, float]:
    """p50 and p99 milliseconds of `pages` pages of 100 rows of `shape` (`count` rows in all)
    past the first, spread over the rows; a page that is not a 200 is printed."""
    times = []
    for page in range(1, pages + 1):
        start = (page * 100) % max(100, count - 100)
        status, _, took = post_json(port, "/bars", {"startRow": start, "endRow": start + 100, **shape})
        times.append(took * 1000)
        if status != 200:
            print(f"   page {page}: status {status}")
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99) - 1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_grouped_shapes(port: int, pid: int, pages: int) -> list:
    """Row grouping (issue 19) over the bars: per shape, the first page (grouping every row it
    covers) with the server's CPU seconds for it, then p50/p99 of later pages (cached groups)."""
    aggregates = [{"id": c, "field": c, "aggFunc": f}
                  for c, f in [("close", "avg"), ("volume", "sum"), ("high", "max"), ("low", "min")]]
    by_ticker = [{"id": "ticker", "field": "ticker"}]
    shapes = [
        ("grouped by ticker (100 groups), four aggregates",
         {"rowGroupCols": by_ticker, "valueCols": aggregates, "groupKeys": []}),
        ("ticker T042 opened, grouped by date (53,820 groups)",
         {"rowGroupCols": by_ticker + [{"id": "date", "field": "date"}], "valueCols": aggregates,
          "groupKeys": ["T042"]}),
        ("leaf rows of T042 (one level), sorted by close desc",
         {"rowGroupCols": by_ticker, "groupKeys": ["T042"],
          "sortModel": [{"colId": "close", "sort": "desc"}]}),
        ("grouped by date over every row, sorted by volume sum desc",
         {"rowGroupCols": [{"id": "date", "field": "date"}], "valueCols": aggregates, "groupKeys": [],
          "sortModel": [{"colId": "volume", "sort": "desc"}]}),
    ]
    verdicts = []
    print("   row grouping (issue 19):")
    for label, shape in shapes:
        cpu = cpu_seconds(pid)
        status, body, first = post_json(port, "/bars", {"startRow": 0, "endRow": 100, **shape})
        cpu = cpu_seconds(pid) - cpu
        answer = json.loads(body)
        if status != 200:
            print(f"   {label}: status {status}: {answer}")
            verdicts.append((f"grouped first page answers: {label}", False, f"status {status}"))
            continue
        count = answer["rowCount"]
        p50, p99 = later_pages(port, shape, count, pages)
        print(f"   {label}: rowCount {count:,}; first {first * 1000:.0f} ms ({cpu:.2f} CPU s); "
              f"later pages p50 {p50:.1f} ms, p99 {p99:.1f} ms over {pages} pages")
        verdicts.append((f"grouped first page < 1 s: {label}", first < 1, f"{first * 1000:.0f} ms"))
        verdicts.append((f"grouped later pages p50 < 50 ms: {label}", p50 < 50, f"{p50:.1f} ms"))
    # The costliest grouping this file allows: every row by its column of most distinct values.
    cpu = cpu_seconds(pid)
    status, body, took = post_json(port, "/bars", {"startRow": 0, "endRow": 100,
                                                   "rowGroupCols": [{"id": "close", "field": "close"}]})
    cpu = cpu_seconds(pid) - cpu
    answer = json.loads(body)
    print(f"   grouped by close over every row: status {status}, rowCount {answer.get('rowCount')}, "
          f"{took * 1000:.0f} ms ({cpu:.2f} CPU s) {answer.get('detail') or ''}")
    verdicts.append(("grouped by close: answered (200, or 400 past the group cap)", status in (200, 400),
                     f"status {status}"))
    flat = {"sortModel": [{"colId": "volume", "sort": "asc"}]}
    verdicts.append(grouping_flood(port, pid, shapes[0][1], "grouping"))
    verdicts.append(grouping_flood(port, pid, flat, "flat sorted (for comparison)"))
    return verdicts


def grouping_flood(port: int, pid: int, shape: dict, label: str, seconds: float = 10,
                   attackers: int = 4) -> tuple:
    """An attack: `attackers` threads sending requests of `shape` that no cache holds (each a new
    filter) for `seconds`, while a normal client asks for a page it asked for before. Prints
    the normal client's latency meanwhile and the server's CPU seconds."""
    stop = time.monotonic() + seconds
    sent = [0] * attackers

    def attack(n: int) -> None:
        while time.monotonic() < stop:
            threshold = 100 + (n * 100_000 + sent[n]) * 0.001
            body = {"startRow": 0, "endRow": 100, **shape,
                    "filterModel": {"close": {"filterType": "number", "type": "greaterThan", "filter": threshold}}}
            post_json(port, "/bars", body)
            sent[n] += 1

    normal = {"startRow": 100, "endRow": 200, "sortModel": [{"colId": "close", "sort": "desc"}]}
    post_json(port, "/bars", normal)
    cpu = cpu_seconds(pid)
    threads = [threading.Thread(target=attack, args=(n,)) for n in range(attackers)]
    for t in threads:
        t.start()
    times = []
    while time.monotonic() < stop:
        _, _, took = post_json(port, "/bars", normal)
        times.append(took * 1000)
        time.sleep(0.05)
    for t in threads:
        t.join()
    cpu = cpu_seconds(pid) - cpu
    times.sort()
    p50, p99 = times[len(times) // 2], times[max(0, int(len(times) * 0.99) - 1)]
    print(f"   {attackers} threads of uncached {label} requests for {seconds:.0f} s: {sum(sent)} answered, "
          f"{cpu:.1f} CPU s; a normal client's cached page meanwhile p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
          f"max {times[-1]:.0f} ms over {len(times)} requests")
    return (f"{label} flood: normal client p99 < 1 s", p99 < 1000, f"{p99:.0f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["full", "quick", "big", "ssrm"])
    ap.add_argument("--bin", default=os.environ.get("BENCH_BIN"), help="the release binary (default $BENCH_BIN)")
    ap.add_argument("--nginx", default="nginx")
    ap.add_argument("--work", required=True, help="temporary directory (removed by run.sh)")
    ap.add_argument("--pidfile", required=True, help="where each started process is recorded")
    ap.add_argument("--reps", type=int, help="load rounds, medians reported (full 3, quick 1)")
    # wrk takes whole seconds only: "-d3.0s" is no duration to it.
    ap.add_argument("--duration", type=int, help="seconds per wrk run (full 10, quick 3)")
    ap.add_argument("--warmup", type=int, help="seconds of wrk before each measured run (full 1, quick 0)")
    ap.add_argument("--quiet-wait", type=float, help="seconds to wait, before each run, for other processes "
                    "to use < 10%% CPU (full 30, quick 0)")
    ap.add_argument("--startups", type=int, default=5, help="spawns timed for the startup figure")
    ap.add_argument("--min-ratio", type=float, default=0.1, help="quick: fail below this ours/nginx ratio "
                    "(0.1: half of the 2026-11-23 baseline on /prices; raise it after the optimisation)")
    ap.add_argument("--size-mb", type=float, default=1024, help="big: CSV size")
    ap.add_argument("--csv", help="big: reuse (or create and keep) the CSV at this path (read once before the "
                    "server starts, so that it sits in the page cache like a freshly written one)")
    ap.add_argument("--ssrm-size-mb", type=float, default=280, help="ssrm: CSV size (about 5 million rows)")
    ap.add_argument("--ssrm-pages", type=int, default=200, help="ssrm: later pages timed per request shape")
    ap.add_argument("--big-duration", type=int, default=10, help="big: seconds of sequential queries")
    ap.add_argument("--first-timeout", type=float, default=900, help="big: seconds allowed for a request")
    args = ap.parse_args()
    if not args.bin:
        ap.error("--bin or $BENCH_BIN is required")
    quick = args.mode == "quick"
    args.reps = args.reps or (1 if quick else 3)
    args.duration = args.duration or (3 if quick else 10)
    args.quiet_wait = args.quiet_wait if args.quiet_wait is not None else (0 if quick else 30)
    args.warmup = args.warmup if args.warmup is not None else (0 if quick else 1)

    # Run a copy named obf-bench from the temporary directory: on a shared machine another
    # session's `pkill openbb-files` then cannot stop our server mid-run (it happened once).
    # The bytes are the release binary's; the size target is measured on args.bin itself.
    args.release_bin = args.bin
    args.bin = os.path.join(args.work, "obf-bench")
    shutil.copy2(args.release_bin, args.bin)

    procs = Procs(args.pidfile)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        runs = {"big": run_big, "ssrm": run_ssrm}
        return runs.get(args.mode, run_full_or_quick)(args, procs)
    finally:
        procs.stop_all()


if __name__ == "__main__":
    sys.exit(main())
