#!/usr/bin/env bash
# Real-browser test: headless Chromium loads a page from an HTTPS origin standing in for
# Workspace (https://pro.openbb.co, mapped to a local Python TLS server with a throwaway
# certificate) whose script fetches our /widgets.json and a table endpoint with the X-API-KEY
# header, so the browser sends real CORS preflights. It passes only when the browser reads the
# same data the server serves, and when a page on a disallowed origin (https://evil.example)
# cannot read it although the server is reachable. Then it opens the server's status page (`/`
# in a browser) and checks what it shows: name and version, the key rule, each widget with the
# last status of the one the page read, no script; no screenshot is taken.
#
# Usage: tests/browser/run.sh            (from the repository root; builds the debug binary)
#        SERVER_BIN=path/to/openbb-files tests/browser/run.sh
# Needs: chromium, openssl, python3, curl. Loopback only; every process it starts is stopped.
#
# Chromium flags beyond the usual headless set (docs/development.md points here):
# - --host-resolver-rules maps pro.openbb.co:443 and evil.example:443 to the local TLS server,
#   so the page's origin is exactly https://pro.openbb.co (a default CORS origin);
# - --ignore-certificate-errors-spki-list trusts only the throwaway certificate's key;
# - --ip-address-space-overrides marks that server as public, as the real Workspace is, so
#   Local Network Access applies to its requests to 127.0.0.1 exactly as for users;
# - --disable-features=LocalNetworkAccessChecks stands in for the user's one-time "Allow" on
#   Chrome's local-network prompt, which headless Chromium cannot show (without it every fetch
#   fails before reaching the server).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ -z "${SERVER_BIN:-}" ]]; then
    cargo build --quiet
    SERVER_BIN=target/debug/openbb-files
fi
# The server's settings are the ones below, whatever the caller's environment holds.
for name in "${!OPENBB_FILES_@}"; do unset "$name"; done
KEY="browser-test-key"

fail() {
    echo "browser test FAILED: $*" >&2
    for log in "$WORK"/*.log; do
        echo "--- $log" >&2
        # Chromium's complaints about the missing D-Bus are noise here.
        grep -v 'dbus' "$log" | tail -n 20 >&2 || true
    done
    exit 1
}

# shellcheck source=../lib.sh
source tests/lib.sh


openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pro.openbb.co \
    -addext "subjectAltName=DNS:pro.openbb.co,DNS:evil.example" \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
SPKI="$(openssl x509 -in "$WORK/cert.pem" -pubkey -noout |
    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"

"$SERVER_BIN" --root . --port 0 --api-key "$KEY" --log-format json \
    >"$WORK/server.out" 2>"$WORK/server.log" &
PIDS+=($!)
BACKEND="$(first_line "$WORK/server.out" | sed -n 's|^listening on \(http://127.0.0.1:[0-9]*\)$|\1|p')"
[[ -n "$BACKEND" ]] || fail "unexpected first line from the server"

python3 tests/browser/origin.py "$WORK/cert.pem" "$WORK/key.pem" tests/browser/page.html \
    >"$WORK/origin.out" 2>"$WORK/origin.log" &
PIDS+=($!)
ORIGIN_PORT="$(first_line "$WORK/origin.out")"

# What the server serves, read without a browser, to compare with what the browser saw.
curl_json() { curl -fsS --max-time 10 -H "X-API-KEY: $KEY" "$BACKEND$1"; }
WIDGETS="$(curl_json /widgets.json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
ROWS="$(curl_json '/prices?ticker=MSFT' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
[[ "$ROWS" -gt 0 ]] || fail "the example has no MSFT prices"
EXPECTED="OK status=200 widgets=$WIDGETS rows=$ROWS tickers=MSFT"

# Loads https://HOST/ in a fresh headless Chromium and prints the text of the page's #result.
browse() {
    local host="$1"
    local profile="$WORK/profile-$host"
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" \
        --host-resolver-rules="MAP $host:443 127.0.0.1:$ORIGIN_PORT" \
        --ignore-certificate-errors-spki-list="$SPKI" \
        --ip-address-space-overrides="127.0.0.1:$ORIGIN_PORT=public" \
        --disable-features=LocalNetworkAccessChecks \
        --virtual-time-budget=15000 --dump-dom \
        "https://$host/?backend=$BACKEND&key=$KEY" 2>"$WORK/chromium-$host.log" |
        sed -n 's|.*<pre id="result">\(.*\)</pre>.*|\1|p'
}

# Access lines the server logged since line $1, as "METHOD PATH STATUS" (every line is JSON;
# access lines are those with a method).
requests_since() {
    tail -n "+$(($1 + 1))" "$WORK/server.log" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if "method" in r:
        print(r["method"], r["path"], r["status"])'
}

# Opens the page on https://$1: sets $seen (what the page read) and $requests (what reached the
# server meanwhile, as requests_since prints them).
visit() {
    local before
    before="$(wc -l <"$WORK/server.log")"
    seen="$(browse "$1")"
    echo "browser: $seen"
    requests="$(requests_since "$before")"
}

echo "== allowed origin https://pro.openbb.co"
visit pro.openbb.co
[[ "$seen" == "$EXPECTED" ]] || fail "expected '$EXPECTED', the browser saw '$seen'"
grep -qx 'OPTIONS /widgets.json 204' <<<"$requests" || fail "no preflight for /widgets.json: $requests"
grep -qx 'GET /widgets.json 200' <<<"$requests" || fail "no GET /widgets.json: $requests"

echo "== disallowed origin https://evil.example"
visit evil.example
[[ "$seen" == "FAILED TypeError: Failed to fetch" ]] || fail "evil.example read the backend: '$seen'"
# The server was reached (the preflight was answered) and the browser refused to go further.
grep -qx 'OPTIONS /widgets.json 204' <<<"$requests" || fail "evil.example never reached the server: $requests"
if grep -q '^GET ' <<<"$requests"; then
    fail "the browser sent a GET after a refused preflight: $requests"
fi

echo "== status page: $BACKEND/ opened in the browser"
HEADERS="$(curl -fsS --max-time 10 -o /dev/null -D - -H 'Accept: text/html' "$BACKEND/?api_key=$KEY")"
grep -qi "^content-security-policy: default-src 'none';" <<<"$HEADERS" ||
    fail "the status page has no strict Content-Security-Policy: $HEADERS"
DOM="$(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$WORK/profile-status" --virtual-time-budget=5000 --dump-dom \
    "$BACKEND/?api_key=$KEY" 2>"$WORK/chromium-status.log")"
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
# What the page shows, as the browser parsed it: element text by id, and the widget rows.
SHOWN="$(python3 -c '
import html.parser, sys

class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.text, self.rows, self.scripts = [], {}, [], 0
    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        if tag == "tr":
            self.rows.append([])
        if tag == "td":
            self.rows[-1].append("")
        self.stack.append((tag, dict(attrs).get("id")))
    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass
    def handle_data(self, data):
        for _, id in self.stack:
            if id:
                self.text[id] = self.text.get(id, "") + data
        if self.stack and self.stack[-1][0] in ("td", "code") and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data

page = Page()
page.feed(sys.stdin.read())
print("name=" + page.text.get("name", ""))
print("key=" + page.text.get("key", ""))
print("scripts=%d" % page.scripts)
widgets = [row for row in page.rows if row]
print("widgets=%d" % len(widgets))
for row in widgets:
    if row[2] == "prices":
        print("prices=" + row[3].split(" at ")[0])
' <<<"$DOM")"
echo "$SHOWN"
for expected in "name=openbb-files $VERSION" "key=required" "scripts=0" "widgets=$WIDGETS" \
    "prices=200"; do
    grep -qxF "$expected" <<<"$SHOWN" || fail "the status page does not show '$expected'"
done

echo "browser test passed"
