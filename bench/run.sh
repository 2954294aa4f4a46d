#!/usr/bin/env bash
# Benchmark openbb-files against the FastAPI peer and nginx (issue 6). One command per mode:
#
#   bench/run.sh            full: ours vs FastAPI peer vs nginx, footprint, PASS/MISS per target
#   bench/run.sh --quick    CI: ours vs nginx only, short runs, no Python venv; exits 1 when
#                           ours/nginx falls below a ratio (a regression), never on absolute times
#   bench/run.sh --big      big files: a ~1 GB CSV in a temp dir, load speed, filtered latency, RSS
#   bench/run.sh --ssrm     server-side table over a ~5-million-row CSV: page latency, row
#                           grouping (first page, CPU s, later pages), a flood beside a normal
#                           client, RSS
#
# Any further arguments go to bench/bench.py (see `python3 bench/bench.py --help`), e.g.
#   bench/run.sh --reps 1 --duration 5      bench/run.sh --big --size-mb 256
#
# What this wrapper does: installs wrk and nginx (and python3) with apt-get when missing (root,
# Debian), builds the release binary, makes a temporary directory, runs bench/bench.py, and on
# EXIT stops every process the run started (bench.py records each one in a pid file) and removes
# the temporary directory. Everything listens on 127.0.0.1 only, on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

MODE=full
ARGS=()
for a in "$@"; do
  case "$a" in
    --quick) MODE=quick ;;
    --big) MODE=big ;;
    --ssrm) MODE=ssrm ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) ARGS+=("$a") ;;
  esac
done

# --- tools ---------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v python3 >/dev/null || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "need ${missing[*]}; install them (apt-get install -y ${missing[*]}) and rerun" >&2
    exit 2
  fi
  # Keep the nginx package from starting a system-wide nginx on port 80 during the install
  # (policy-rc.d exit 101 = "do not start services"); removed again if we created it.
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  timeout 600 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "${missing[@]}" >/dev/null
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# --- build -----------------------------------------------------------------------------------
echo "== cargo build --release"
cargo build --release --quiet
export BENCH_BIN="$REPO/target/release/openbb-files"   # passed in the environment, so no
# command line of ours names openbb-files (see the note on obf-bench in bench.py)

# --- run, with cleanup on every exit -------------------------------------------------------
WORK=$(mktemp -d /tmp/obf-bench.XXXXXX)
chmod 755 "$WORK"   # nginx workers may run as another user and must read the saved bytes
PIDFILE="$WORK/pids"
: >"$PIDFILE"
PY_PID=

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -n "$PY_PID" ] && kill "$PY_PID" 2>/dev/null && sleep 1
  # Each line: PID STARTTIME (field 22 of /proc/PID/stat). Each process was started in its own
  # process group, so `kill -- -PID` also stops its children (nginx workers). The start time
  # guards against killing an unrelated process that reused the PID.
  while read -r pid start; do
    [ -r "/proc/$pid/stat" ] || continue
    [ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$start" ] || continue
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e "/proc/$pid" ] || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done <"$PIDFILE"
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The quick mode has a hard time limit; the full mode may install the peer's venv (minutes).
LIMIT=0
[ "$MODE" = quick ] && LIMIT=${QUICK_TIME_LIMIT:-300}
set +e
if [ "$LIMIT" -gt 0 ]; then
  timeout --signal=TERM --kill-after=10 "$LIMIT" python3 "$REPO/bench/bench.py" "$MODE" \
    --nginx "$NGINX" --work "$WORK" --pidfile "$PIDFILE" ${ARGS[@]+"${ARGS[@]}"} &
else
  python3 "$REPO/bench/bench.py" "$MODE" \
    --nginx "$NGINX" --work "$WORK" --pidfile "$PIDFILE" ${ARGS[@]+"${ARGS[@]}"} &
fi
PY_PID=$!
wait "$PY_PID"
status=$?
PY_PID=
set -e
[ "$status" = 124 ] && echo "bench: time limit of ${LIMIT}s reached" >&2
exit "$status"
