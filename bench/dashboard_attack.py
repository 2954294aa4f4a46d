#!/usr/bin/env python3
"""The generated dashboard under attack, loopback only, no widgets.json or apps.json:
(1) a folder of 2,000 files in 100 folders (each CSV with columns of its own, so each is a
widget, with a `ticker` dropdown: one group links 1,000 widgets; each folder's ten notes are one
widget): the first GET /apps.json (the manifest and the dashboard made), then 200
more (served from the dashboard kept); (2) the same folder rewritten under the server: one
thread rewrites a CSV every 20 ms for 10 s (so the manifest and the dashboard are made again
at each look, once a second) while a client times GET /apps.json and a widget.
Prints latencies, the answer's size, tabs and groups, server CPU seconds and peak RSS (VmHWM).

  python3 bench/dashboard_attack.py target/release/openbb-files /tmp/dashboard-attack [baseline]

With `baseline`, the root also holds an `apps.json` of `[]`, so no dashboard is made: what the
generated manifest alone costs. The server it starts is stopped at the end (and on an error)."""
import json, os, shutil, statistics, sys, threading, time

from attack_server import request, serve, stats

BIN = sys.argv[1]
ROOT = sys.argv[2]
BASELINE = sys.argv[3:] == ["baseline"]
FOLDERS, PER_FOLDER = 100, 20
# A CSV of the first folder beside the one rewritten (f00.csv).
WIDGET = "/desk_000_f02_csv"


def timed(port, path):
    t = time.perf_counter()
    status, body = request(port, path)
    return status, body, (time.perf_counter() - t) * 1000


def pct(times, q):
    times = sorted(times)
    return times[min(len(times) - 1, int(q * len(times)))]


shutil.rmtree(ROOT, ignore_errors=True)
for f in range(FOLDERS):
    folder = os.path.join(ROOT, "data", f"desk-{f:03}")
    os.makedirs(folder)
    for n in range(PER_FOLDER):
        name = os.path.join(folder, f"f{n:02}")
        if n % 2:
            with open(name + ".md", "w") as out:
                out.write(f"# Note {f}/{n}\n")
        else:
            with open(name + ".csv", "w") as out:
                # A column of its own, so that the CSVs of a folder are not alike (one widget).
                out.write(f"ticker,close,c{n}\nAAPL,1,1\nMSFT,2,2\nAAPL,3,3\n")

if BASELINE:
    with open(os.path.join(ROOT, "apps.json"), "w") as out:
        out.write("[]")
server, port = serve(BIN, ROOT)
try:
    status, body, first = timed(port, "/apps.json")
    apps = json.loads(body) or [{"tabs": {}, "groups": []}]
    tabs = len(apps[0]["tabs"])
    items = sum(len(t["layout"]) for t in apps[0]["tabs"].values())
    groups = [len(g["widgetIds"]) for g in apps[0]["groups"]]
    print(f"(1) {FOLDERS * PER_FOLDER} files: first GET /apps.json {status} in {first:.0f} ms, "
          f"{len(body) / 1024:.0f} KiB, {tabs} tabs, {items} items, groups of {groups}")
    again = [timed(port, "/apps.json")[2] for _ in range(200)]
    print(f"    then p50 {statistics.median(again):.2f} ms, p99 {pct(again, 0.99):.2f} ms, "
          f"max {max(again):.2f} ms; server CPU {stats(server.pid)[0]:.2f} s, "
          f"peak RSS {stats(server.pid)[1]:.1f} MiB")

    stop = time.monotonic() + 10
    rewrites = 0

    def rewrite():
        global rewrites
        path = os.path.join(ROOT, "data", "desk-000", "f00.csv")
        while time.monotonic() < stop:
            with open(path, "w") as out:
                out.write(f"ticker,close,c0\nAAPL,{rewrites},1\nMSFT,2,2\nAAPL,3,3\n")
            rewrites += 1
            time.sleep(0.02)

    cpu_before = stats(server.pid)[0]
    writer = threading.Thread(target=rewrite)
    writer.start()
    apps_times, widget_times, bad = [], [], 0
    while time.monotonic() < stop:
        for path, times in [("/apps.json", apps_times), (WIDGET, widget_times)]:
            status, _, took = timed(port, path)
            bad += status != 200
            times.append(took)
    writer.join()
    cpu, rss = stats(server.pid)
    for name, times in [("/apps.json", apps_times), ("a widget", widget_times)]:
        print(f"(2) {rewrites} rewrites in 10 s: {name} {len(times)} answers, "
              f"p50 {statistics.median(times):.2f} ms, p99 {pct(times, 0.99):.2f} ms, "
              f"max {max(times):.0f} ms")
    print(f"    non-200 answers {bad}; server CPU {cpu - cpu_before:.2f} s in the 10 s; "
          f"peak RSS {rss:.1f} MiB")
finally:
    server.kill()
    server.wait()
