#!/usr/bin/env bash
# Named keys under load (RELIABILITY.md, "Named keys and the submitter's id"): for a keys file
# of 1 key and one of N keys (default 1000, the most --api-keys takes), a server on 127.0.0.1
# answers GET /prices_csv (a 2-row table) for 5 s per case under wrk (1 thread, 2 connections): with the file's
# first key, its last key, and a wrong key (401). Prints, per case, requests/s and p50/p99
# latency, then the server's start time, peak RSS and CPU seconds. Equal figures for the first
# key, the last key and a wrong key show that no comparison stops early.
#   BIN=target/release/openbb-files bench/named_keys.sh [N] [SECONDS]
# Needs wrk and python3. Stops the servers it started (by pid) and removes its temporary folder.
set -euo pipefail
BIN=${BIN:-target/release/openbb-files}
N=${1:-1000}
SECONDS_EACH=${2:-5}
WORK=$(mktemp -d)
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/root/data"
printf 'ticker,price\nAAPL,1\nMSFT,2\n' > "$WORK/root/data/prices.csv"

run_case() { # keys-file count
  local count=$1 file="$WORK/keys$1.txt"
  python3 - "$count" "$file" <<'EOF'
import secrets, sys
count, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(count):
        f.write(f"analyst{i} {secrets.token_hex(24)}\n")
EOF
  local first last
  first=$(head -1 "$file" | cut -d' ' -f2)
  last=$(tail -1 "$file" | cut -d' ' -f2)
  local started=$(date +%s.%N)
  coproc SRV { exec "$BIN" --root "$WORK/root" --port 0 --quiet --api-keys "$file" 2>/dev/null; }
  SERVER=$SRV_PID
  local line
  read -r line <&"${SRV[0]}"
  local ready=$(date +%s.%N)
  local port=${line##*:}
  echo "== $count key(s): started in $(python3 -c "print(f'{($ready-$started)*1000:.0f} ms')")"
  for which in first last wrong; do
    local key
    case $which in first) key=$first ;; last) key=$last ;; wrong) key=not-a-key-of-this-server ;; esac
    local out
    out=$(wrk -t1 -c2 -d"${SECONDS_EACH}s" --latency -H "X-API-KEY: $key" "http://127.0.0.1:$port/prices_csv")
    local rps p50 p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    echo "  $which key: ${rps} req/s, p50 ${p50}, p99 ${p99}, non-2xx ${non2xx:-0}"
  done
  local hwm ticks
  hwm=$(awk '/VmHWM/ {print $2, $3}' "/proc/$SERVER/status")
  ticks=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  echo "  peak RSS $hwm, CPU $(python3 -c "print($ticks / $(getconf CLK_TCK))") s"
  kill "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}

run_case 1
run_case "$N"
