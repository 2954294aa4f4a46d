#!/usr/bin/env bash
# Scale-out test: two openbb-files replicas on loopback behind nginx, configured with the proxy
# settings shipped in deploy/nginx/openbb-files-proxy.conf (retry on the other replica). wrk
# loads nginx for a bounded time; one replica is killed (SIGKILL) in the middle. The test
# passes only when the client saw no failed request (no non-2xx answer, no socket error), both
# replicas answered requests, and nginx did meet the dead replica (so the retry was exercised).
#
# Usage: tests/scale/run.sh              (from the repository root; builds the debug binary)
#        SERVER_BIN=path/to/openbb-files DURATION=10 tests/scale/run.sh
# Needs: nginx, wrk, python3. Loopback only; every process it starts is stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/sbin"

if [[ -z "${SERVER_BIN:-}" ]]; then
    cargo build --quiet
    SERVER_BIN=target/debug/openbb-files
fi
# The replicas' settings are the ones below, whatever the caller's environment holds.
for name in "${!OPENBB_FILES_@}"; do unset "$name"; done
DURATION="${DURATION:-6}"
KILL_AFTER=$((DURATION / 3))
TARGET="/prices?ticker=AAPL"

fail() {
    echo "scale test FAILED: $*" >&2
    for log in "$WORK"/*.log "$WORK"/wrk.out; do
        [[ -f "$log" ]] || continue
        echo "--- $log" >&2
        tail -n 15 "$log" >&2
    done
    exit 1
}

# shellcheck source=../lib.sh
source tests/lib.sh


# Starts a replica on a free loopback port; sets REPLICA_PID and REPLICA_PORT.
start_replica() {
    "$SERVER_BIN" --root . --port 0 --log-format json >"$WORK/$1.out" 2>"$WORK/$1.log" &
    REPLICA_PID=$!
    PIDS+=("$REPLICA_PID")
    REPLICA_PORT="$(first_line "$WORK/$1.out" | sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p')"
    [[ -n "$REPLICA_PORT" ]] || fail "unexpected first line from replica $1"
}
start_replica a
A_PID=$REPLICA_PID A_PORT=$REPLICA_PORT
start_replica b
B_PORT=$REPLICA_PORT

NGINX_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    map \$http_upgrade \$openbb_files_connection {
        default upgrade;
        ''      '';
    }
    upstream openbb_files {
        server 127.0.0.1:$A_PORT max_fails=1 fail_timeout=10s;
        server 127.0.0.1:$B_PORT max_fails=1 fail_timeout=10s;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            include $PWD/deploy/nginx/openbb-files-proxy.conf;
        }
    }
}
EOF
nginx -e "$WORK/nginx-error.log" -p "$WORK/nginx" -c "$WORK/nginx.conf" &
PIDS+=($!)
PROXY="http://127.0.0.1:$NGINX_PORT"
for _ in $(seq 100); do
    curl -fsS --max-time 2 -o /dev/null "$PROXY$TARGET" 2>/dev/null && break
    sleep 0.1
done
curl -fsS --max-time 10 -o /dev/null "$PROXY$TARGET" || fail "nginx does not answer on $PROXY"

echo "== wrk for ${DURATION}s through nginx; replica a (port $A_PORT) killed after ${KILL_AFTER}s"
wrk --threads 2 --connections 16 --duration "${DURATION}s" --timeout 5s "$PROXY$TARGET" \
    >"$WORK/wrk.out" 2>&1 &
WRK_PID=$!
PIDS+=("$WRK_PID")
sleep "$KILL_AFTER"
served_before_kill="$(grep -c '"request_id"' "$WORK/a.log" || true)"
kill -KILL "$A_PID"
wait "$A_PID" 2>/dev/null || true
# wrk stops by itself after DURATION; `timeout` is only a guard against a hang.
timeout $((DURATION + 20)) tail --pid="$WRK_PID" -f /dev/null || fail "wrk did not finish"
wait "$WRK_PID" || fail "wrk failed"
cat "$WORK/wrk.out"

requests="$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$WORK/wrk.out")"
[[ -n "$requests" && "$requests" -gt 100 ]] || fail "too few requests: '${requests:-none}'"
if grep -q 'Non-2xx or 3xx responses' "$WORK/wrk.out"; then fail "the client saw failed answers"; fi
if grep -q 'Socket errors' "$WORK/wrk.out"; then fail "the client saw socket errors"; fi
[[ "$served_before_kill" -gt 0 ]] || fail "replica a served nothing before it was killed"
served_b="$(grep -c '"request_id"' "$WORK/b.log" || true)"
[[ "$served_b" -gt 0 ]] || fail "replica b served nothing"
grep -q 'upstream' "$WORK/nginx-error.log" ||
    fail "nginx never met the killed replica, so no retry was tested"
echo "requests: $requests, all 2xx; replica a answered $served_before_kill before it was killed, replica b $served_b"
echo "nginx met the dead replica $(grep -c 'upstream' "$WORK/nginx-error.log") time(s) and retried on the other"
echo "scale test passed"
