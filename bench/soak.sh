#!/usr/bin/env bash
# Soak test (issue 7): the release binary serving the bundled example on 127.0.0.1 under wrk at
# 256 connections over mixed endpoints, then checks for errors and leaks.
#
#   bench/soak.sh                 60 s at 256 connections
#   bench/soak.sh 20 64           20 s at 64 connections (SOAK_BIN=path skips the build)
#
# Passes (exit 0) when: every answer is 2xx with no socket error or timeout; resident memory
# at the end is within 10% (+8 MiB) of what it was after the warm-up; and once idle, the
# server has no more threads and file descriptors than it had idle before the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN="${1:-60}"
CONNECTIONS="${2:-256}"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
if [ -z "${SOAK_BIN:-}" ]; then
  echo "== cargo build --release"
  cargo build --release --quiet
  SOAK_BIN=target/release/openbb-files
fi

PATHS=(/ /widgets.json /apps.json /holdings /prices?ticker=AAPL
  "/prices?ticker=MSFT&start_date=2024-03-01" "/earnings?ticker=NVDA&since=2024-01-01"
  /fundamentals /portfolio_kpis /last_close?ticker=AAPL
  "/position_detail?sector=Financials&holding=JPM" /performance /risk_limits
  /research_report?ticker=AAPL /company_news?ticker=AAPL /desk_notes
  "/udf/history?symbol=AAPL&resolution=D&from=1704067200&to=1735603200" /udf/config)

WORK=$(mktemp -d /tmp/obf-soak.XXXXXX)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SOAK_BIN" --root . --host 127.0.0.1 --port 0 --quiet >"$WORK/out" 2>"$WORK/err" &
SERVER_PID=$!
for _ in $(seq 50); do [ -s "$WORK/out" ] && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' "$WORK/out")
[ -n "$URL" ] || { cat "$WORK/err"; exit 1; }
echo "== serving the bundled example at $URL (pid $SERVER_PID)"

for path in "${PATHS[@]}"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$URL$path")
  [[ "$code" == 2* ]] || { echo "FAIL: $path answers $code before the run" >&2; exit 1; }
done

rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }   # KiB
threads() { ls "/proc/$SERVER_PID/task" | wc -l; }
fds() { ls "/proc/$SERVER_PID/fd" | wc -l; }
# tiny_http's idle connection threads end 5 s after their connection closes.
settle() { sleep 8; }

settle
idle_threads=$(threads); idle_fds=$(fds)
echo "== idle before: threads=$idle_threads fds=$idle_fds rss=$(rss) KiB"

echo "== warm-up: 10 s at $CONNECTIONS connections"
wrk -t2 -c"$CONNECTIONS" -d10s --timeout 5s -s bench/soak.lua "$URL" -- "${PATHS[@]}" | grep SOAK
warm_rss=$(rss)
echo "== after warm-up: rss=$warm_rss KiB threads=$(threads) fds=$(fds)"

echo "== soak: ${SECONDS_RUN} s at $CONNECTIONS connections (RSS sampled every 5 s)"
(
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    sleep 5
    echo "$(rss) $(threads) $(fds)" >>"$WORK/samples"
  done
) &
SAMPLER=$!
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_RUN}s" --timeout 5s -s bench/soak.lua "$URL" -- "${PATHS[@]}" \
  | tee "$WORK/wrk"
kill "$SAMPLER" 2>/dev/null || true
end_rss=$(rss)
echo "== RSS samples during the soak (KiB threads fds): $(tr '\n' ',' <"$WORK/samples")"

settle
after_threads=$(threads); after_fds=$(fds)
echo "== idle after: threads=$after_threads fds=$after_fds rss=$(rss) KiB"

line=$(grep SOAK "$WORK/wrk")
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
failures=()
for name in non2xx connect read write timeout; do
  [ "$(field "$name")" = 0 ] || failures+=("$name=$(field "$name")")
done
limit=$((warm_rss + warm_rss / 10 + 8192))
[ "$end_rss" -le "$limit" ] || failures+=("rss grew from $warm_rss to $end_rss KiB")
[ "$after_threads" -le "$idle_threads" ] || failures+=("threads $idle_threads -> $after_threads")
[ "$after_fds" -le "$idle_fds" ] || failures+=("fds $idle_fds -> $after_fds")
kill -0 "$SERVER_PID" || failures+=("the server died")

echo "== summary: $(field requests) requests in $(field seconds) s ($(field rps)/s), p99 $(field p99_ms) ms; \
rss $warm_rss -> $end_rss KiB; threads $idle_threads -> $after_threads; fds $idle_fds -> $after_fds"
if [ ${#failures[@]} -gt 0 ]; then
  echo "FAIL: ${failures[*]}" >&2
  exit 1
fi
echo "PASS"
