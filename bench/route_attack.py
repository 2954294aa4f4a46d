#!/usr/bin/env python3
"""Routing under attack, loopback only: (1) a widgets.json of 10,000 widgets: latency of the
first widget, the last, and a path that names nothing (every lookup scans); (2) 8 threads
flooding wrong methods, unknown paths, dot tricks and unknown UDF routes for 10 s while one
client times GET /prices. Prints server CPU seconds and peak RSS (VmHWM).

  python3 bench/route_attack.py target/release/openbb-files /tmp/route-attack

Each server it starts is stopped before the next (and on an error)."""
import json, os, sys, threading, time, statistics

from attack_server import request, serve, stats

BIN = sys.argv[1]
ROOT = sys.argv[2]

def get(port, path, method="GET"):
    return request(port, path, method, timeout=5)[0]

def timed(port, path, n=300):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        status = get(port, path)
        times.append((time.perf_counter() - t) * 1000)
    return status, statistics.median(times), max(times)

def folder(name, widgets, files):
    """The root ROOT/name holding `widgets` as its widgets.json and `files` (name: text) in data/."""
    root = os.path.join(ROOT, name)
    os.makedirs(os.path.join(root, "data"), exist_ok=True)
    for file, text in files.items():
        with open(os.path.join(root, "data", file), "w") as f:
            f.write(text)
    with open(os.path.join(root, "widgets.json"), "w") as f:
        json.dump(widgets, f)
    return root

# (1) a big manifest
widgets = {f"w{i}": {"name": f"W{i}", "description": "d", "endpoint": f"w{i}"} for i in range(10000)}
big = folder("big", widgets, {"w9999.csv": "a\n1\n", "w0.csv": "a\n1\n"})
p, port = serve(BIN, big)
try:
    for path in ["/w0", "/w9999", "/nope", "/w9999/history"]:
        status, p50, worst = timed(port, path)
        print(f"10,000 widgets: GET {path}: {status}, p50 {p50:.2f} ms, max {worst:.2f} ms")
    print("server after: CPU %.2f s, peak RSS %.1f MiB" % stats(p.pid))
finally:
    p.terminate(); p.wait(5)

# (2) a flood of refusals
desk = folder("desk", {
    "prices": {"name": "P", "description": "d", "endpoint": "prices"},
    "chart": {"name": "C", "description": "d", "type": "advanced_charting", "endpoint": "udf", "backend": {"file": "ohlc.csv"}},
    "big": {"name": "B", "description": "d", "type": "ssrm_table", "endpoint": "big", "backend": {"file": "prices.csv"}},
    "quotes": {"name": "Q", "description": "d", "type": "live_grid", "endpoint": "quotes", "wsEndpoint": "ws/quotes", "data": {"wsRowIdColumn": "ticker"}, "backend": {"file": "prices.csv"}},
}, {
    "prices.csv": "ticker,close\nAAPL,1\nMSFT,2\n",
    "ohlc.csv": "date,symbol,open,high,low,close\n2024-01-02,AAPL,1,2,0.5,1.5\n",
})
p, port = serve(BIN, desk)
attacks = [("POST", "/prices", 405), ("DELETE", "/widgets.json", 405), ("GET", "/big", 405),
           ("POST", "/ws/quotes", 405), ("GET", "/udf/marks", 404), ("GET", "/%2e%2e/widgets.json", 404),
           ("GET", "/nope/" + "a/" * 500, 404), ("PUT", "/files/prices.csv", 405)]
stop = time.time() + 10
sent = [0]
wrong = []
def flood(k):
    i = k
    while time.time() < stop:
        method, path, expected = attacks[i % len(attacks)]
        status = get(port, path, method)
        if status != expected:
            wrong.append((method, path, status))
        sent[0] += 1
        i += 1
try:
    threads = [threading.Thread(target=flood, args=(k,)) for k in range(8)]
    for t in threads: t.start()
    time.sleep(0.5)
    times = []
    while time.time() < stop - 0.5:
        t = time.perf_counter()
        assert get(port, "/prices?ticker=AAPL") == 200
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.01)
    for t in threads: t.join()
    times.sort()
    print(f"flood: {sent[0]} refusals in 10 s, wrong statuses: {wrong[:3]}")
    print(f"normal client during the flood: {len(times)} requests, p50 {statistics.median(times):.2f} ms, p99 {times[int(len(times)*0.99)-1]:.2f} ms, max {times[-1]:.2f} ms")
    print("server after: CPU %.2f s, peak RSS %.1f MiB" % stats(p.pid))
finally:
    p.terminate(); p.wait(5)
