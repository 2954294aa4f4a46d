#!/usr/bin/env bash
# Checks the recipes in deploy/ with the tools that can judge them offline:
# - nginx -t on deploy/nginx/openbb-files.conf (with the proxy snippet and a throwaway
#   certificate in place of the real paths);
# - systemd-analyze verify on the systemd unit (ExecStart pointed at the built binary);
# - caddy validate on the Caddyfile, when caddy is installed;
# - the Kubernetes manifest parses as YAML with the expected kinds, probes on /health, no service
#   links or API token, and a memory limit that holds its cache budgets, when PyYAML is installed.
# Usage: tests/deploy/check.sh   (from the repository root; builds the debug binary)
# Loopback only: nothing is started but `nginx -t`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/sbin"
cargo build --quiet
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== nginx -t deploy/nginx/openbb-files.conf"
mkdir -p "$WORK/nginx/snippets"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=openbb.example.com \
    -keyout "$WORK/privkey.pem" -out "$WORK/fullchain.pem" 2>/dev/null
cp deploy/nginx/openbb-files-proxy.conf "$WORK/nginx/snippets/"
sed "s|/etc/letsencrypt/live/openbb.example.com|$WORK|" deploy/nginx/openbb-files.conf \
    >"$WORK/nginx/openbb-files.conf"
cat >"$WORK/nginx/nginx.conf" <<CONF
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events {}
http {
    client_body_temp_path $WORK/body;
    proxy_temp_path $WORK/proxy;
    fastcgi_temp_path $WORK/fastcgi;
    uwsgi_temp_path $WORK/uwsgi;
    scgi_temp_path $WORK/scgi;
    include openbb-files.conf;
}
CONF
nginx -t -q -e "$WORK/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"

if command -v systemd-analyze >/dev/null; then
    echo "== systemd-analyze verify deploy/systemd/openbb-files.service"
    sed "s|/usr/local/bin/openbb-files|$PWD/target/debug/openbb-files|" \
        deploy/systemd/openbb-files.service >"$WORK/openbb-files.service"
    systemd-analyze verify "$WORK/openbb-files.service"
    exposure="$(systemd-analyze security --offline=yes "$WORK/openbb-files.service" |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')"
    echo "systemd-analyze security: exposure $exposure (0 best, 10 worst)"
    python3 -c "import sys; sys.exit(float('$exposure') >= 2)" ||
        { echo "the unit's sandbox got weaker: exposure $exposure" >&2; exit 1; }
else
    echo "== systemd-analyze not installed: unit not checked"
fi

if command -v caddy >/dev/null; then
    echo "== caddy validate deploy/caddy/Caddyfile"
    caddy validate --adapter caddyfile --config deploy/caddy/Caddyfile 2>&1 | tail -n 1
else
    echo "== caddy not installed: Caddyfile not checked"
fi

if python3 -c 'import yaml' 2>/dev/null; then
    echo "== deploy/kubernetes/openbb-files.yaml parses"
    python3 - <<'PY'
import yaml
docs = list(yaml.safe_load_all(open("deploy/kubernetes/openbb-files.yaml")))
kinds = [d["kind"] for d in docs]
assert kinds == ["Deployment", "Service"], kinds
pod = docs[0]["spec"]["template"]["spec"]
# A Service named openbb-files would inject OPENBB_FILES_PORT=tcp://...; no API token needed.
assert pod["enableServiceLinks"] is False, pod
assert pod["automountServiceAccountToken"] is False, pod
container = pod["containers"][0]
for kind in ("readinessProbe", "livenessProbe"):
    probe = container[kind]["httpGet"]
    # /health needs no key: a probe cannot read the Secret.
    assert probe == {"path": "/health", "port": "http"}, (kind, probe)
mib = {"Mi": 1, "Gi": 1024}
def size(value):
    return int(value[:-2]) * mib[value[-2:]]
env = {e["name"]: e.get("value") for e in container["env"]}
caches = sum(int(v) for k, v in env.items() if k.endswith("_CACHE_BYTES")) // 2**20
request = size(container["resources"]["requests"]["memory"])
limit = size(container["resources"]["limits"]["memory"])
# The limit holds the cache budgets and the process (32 MiB), 15% spare, and room for tables.
assert request <= limit and limit >= 1.15 * (caches + 32) + 64, (caches, request, limit)
print(f"probes on /health, no service links, no API token; memory {request}-{limit} MiB, caches {caches} MiB")
PY
else
    echo "== PyYAML not installed: Kubernetes manifest not checked"
fi
echo "deploy recipes checked"
