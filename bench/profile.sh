#!/usr/bin/env bash
# Where a request's time goes, in figures that hold still on a busy machine (issue 6, point 6).
#
#   bench/profile.sh [BINARY]      default: target/release/openbb-files (built if missing)
#
# For /prices?ticker=AAPL (the peer's 1,000-row CSV) and /widgets.json of the bundled example:
#   - user-space instructions per request: valgrind --tool=callgrind over 2,000 keep-alive GETs
#     from one Python http.client connection, counted from after the first (cached) answer;
#   - system calls and context switches per request: perf stat (software events) over 4 s of
#     `wrk -t2 -c32` on loopback, divided by the requests wrk made in those 4 s.
# Needs valgrind, perf and wrk (apt-get install -y valgrind linux-perf wrk). Everything listens
# on 127.0.0.1; every process started here is stopped on exit, and the temp dir removed.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BIN=${1:-$REPO/target/release/openbb-files}
[ -x "$BIN" ] || cargo build --release --quiet
for tool in valgrind perf wrk callgrind_control python3; do
    command -v "$tool" >/dev/null || { echo "profile.sh needs $tool" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/obf-profile.XXXXXX)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir "$WORK/root"
cp -r "$REPO/data" "$REPO/widgets.json" "$REPO/apps.json" "$WORK/root/"
python3 "$REPO/../shared/peers/make_prices.py" "$WORK/root/data/prices.csv" 2>/dev/null ||
    echo "(peer's make_prices.py not found: the bundled data/prices.csv, the same 1,000 rows)"

# start [WRAPPER...]: runs the server (under WRAPPER) on a free port; sets SERVER and PORT.
# The server gets a session of its own, as bench.py gives every server it measures: with the
# kernel's autogroup scheduling a session is one scheduling group, so the server then shares
# the CPUs with wrk as a whole, not thread by thread (BENCHMARKS.md, fifth round).
start() {
    setsid "$@" "$BIN" --root "$WORK/root" --port 0 --quiet >"$WORK/out" 2>"$WORK/err" &
    SERVER=$!
    for _ in $(seq 400); do grep -q '^listening on' "$WORK/out" && break; sleep 0.05; done
    PORT=$(sed -n 's/^listening on http:.*:\([0-9]*\)$/\1/p' "$WORK/out")
    [ -n "$PORT" ] || { echo "the server did not start: $(cat "$WORK/err")" >&2; exit 1; }
}
stop() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
}

requests() { # PORT PATH COUNT: COUNT keep-alive GETs on one connection
    python3 - "$@" <<'EOF'
import http.client, sys
port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
for _ in range(count):
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
EOF
}

for path in "/prices?ticker=AAPL" "/widgets.json"; do
    echo "== $path"
    start valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" --dump-before=nothing
    requests "$PORT" "$path" 1
    callgrind_control -z "$SERVER" >/dev/null 2>&1
    requests "$PORT" "$path" 2000
    callgrind_control -d "$SERVER" >/dev/null 2>&1
    stop
    total=$(callgrind_annotate "$WORK/cg.out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    echo "   user-space instructions per request (callgrind): $((total / 2000))"
    rm -f "$WORK"/cg.out*

    start
    requests "$PORT" "$path" 1
    wrk -t2 -c32 -d6s "http://127.0.0.1:$PORT$path" >"$WORK/wrk" &
    WRK=$!
    sleep 1
    perf stat -x, -e task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_futex \
        -p "$SERVER" -- sleep 4 2>"$WORK/stat"
    wait "$WRK"
    stop
    python3 - "$WORK/wrk" "$WORK/stat" <<'EOF'
import re, sys
wrk, stat = open(sys.argv[1]).read(), open(sys.argv[2]).read()
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk).group(1))
counts = {}
for line in stat.splitlines():
    fields = line.split(",")
    if len(fields) > 2 and re.fullmatch(r"[\d.]+", fields[0]):
        counts[fields[2]] = float(fields[0])
n = rate * 4
print(f"   under wrk -t2 -c32: {rate:.0f} req/s; per request: "
      f"CPU {counts['task-clock'] * 1000 / n:.1f} us, "
      f"{counts['raw_syscalls:sys_enter'] / n:.2f} system calls "
      f"({counts['syscalls:sys_enter_futex'] / n:.2f} futex), "
      f"{counts['context-switches'] / n:.2f} context switches")
EOF
done
