#!/usr/bin/env python3
"""Storage-error attacks against the release build on loopback: server CPU seconds, peak RSS and
a normal client's latency while four hostile connections hammer one error path.

    cargo build --release && python3 bench/storage_errors.py target/release/openbb-files

Writes a 50 MB CSV that does not parse (its last line) in a temporary folder; RELIABILITY.md,
"Typed storage errors", holds the figures."""
import http.client, json, os, shutil, statistics, subprocess, sys, tempfile, threading, time

binary = sys.argv[1]
root = tempfile.mkdtemp(prefix="obf-errors-")
data = os.path.join(root, "data")
os.makedirs(os.path.join(data, "reports"), exist_ok=True)
with open(os.path.join(data, "prices.csv"), "w") as f:
    f.write("date,ticker,close\n")
    for i in range(2000):
        f.write(f"2024-01-{i%28+1:02d},T{i%50},{i}.5\n")
with open(os.path.join(data, "broken.csv"), "w") as f:
    f.write("date,ticker,close\n")
    row = "2024-01-02,AAPL,185.5\n"
    f.write(row * (50_000_000 // len(row)))
    f.write("1,2,3,4\n")
open(os.path.join(data, "reports", "AAPL.md"), "w").write("# Apple")
json.dump({
  "prices": {"name": "P", "description": "d", "endpoint": "prices"},
  "broken": {"name": "B", "description": "d", "endpoint": "broken"},
  "report": {"name": "R", "description": "d", "type": "markdown", "endpoint": "report",
             "params": [{"paramName": "ticker", "type": "text", "value": "AAPL"}],
             "backend": {"file": "reports/{ticker}.md"}},
  "quote": {"name": "Q", "description": "d", "endpoint": "quote",
            "backend": {"file": "http://127.0.0.1:9/q.csv"}},
  "fresh": {"name": "F", "description": "d", "endpoint": "fresh"},
}, open(os.path.join(root, "widgets.json"), "w"))

server = subprocess.Popen([binary, "--root", root, "--port", "0"], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
pid = server.pid

def cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def peak_rss_mib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    return r.status, body

def attack(name, paths, count, expect):
    stop = threading.Event()
    lat = []
    def normal():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while not stop.is_set():
            t = time.perf_counter()
            s, _ = get(c, "/prices?ticker=T7")
            lat.append((time.perf_counter() - t) * 1000)
            assert s == 200
            time.sleep(0.005)
    t = threading.Thread(target=normal); t.start()
    c0, w0 = cpu(), time.perf_counter()
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(4)]
    statuses = {}
    def hammer(k):
        for n in range(k, count, 4):
            s, body = get(conns[k], paths(n))
            statuses[s] = statuses.get(s, 0) + 1
    ts = [threading.Thread(target=hammer, args=(k,)) for k in range(4)]
    [x.start() for x in ts]; [x.join() for x in ts]
    wall = time.perf_counter() - w0
    stop.set(); t.join()
    lat.sort()
    print(f"| {name} | {count} requests: {statuses} | {wall:.2f} s wall, {cpu()-c0:.2f} s server CPU, "
          f"peak RSS {peak_rss_mib():.1f} MiB | normal client p50 {statistics.median(lat):.2f} ms, "
          f"max {lat[-1]:.2f} ms ({len(lat)} requests) |", flush=True)
    assert set(statuses) == {expect}, statuses

c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
# The first request parses the file and fails; the error is kept with the file's version.
t = time.perf_counter(); s, body = get(c, "/broken"); first = time.perf_counter() - t
print(f"first /broken: {s} in {first*1000:.0f} ms: {json.loads(body)['detail']}")
t = time.perf_counter(); s, _ = get(c, "/broken"); print(f"second /broken: {s} in {(time.perf_counter()-t)*1000:.2f} ms")
attack("broken 50 MB CSV (500)", lambda n: "/broken", 4000, 500)
attack("distinct hostile names (400)", lambda n: f"/report?ticker=..%2F{n}", 20000, 400)
attack("distinct missing files (404)", lambda n: f"/report?ticker=Z{n}", 20000, 404)
attack("missing parameter (422)", lambda n: "/report?ticker=", 20000, 422)
attack("upstream down, no copy (502)", lambda n: "/quote", 4000, 502)
# A file emptied a moment ago (a rewrite caught between truncation and write) and never read:
# 503 to retry, after the reader's pauses (63 ms in all).
open(os.path.join(data, "fresh.csv"), "w").close()
t = time.perf_counter(); s, body = get(c, "/fresh")
print(f"just-emptied file: {s} in {(time.perf_counter()-t)*1000:.0f} ms: {json.loads(body)['detail']}")
server.terminate(); server.wait(5)
shutil.rmtree(root)
