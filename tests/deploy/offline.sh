#!/usr/bin/env bash
# The air-gapped build of the README, for real: `cargo vendor` (the connected machine's half),
# then, with a Cargo home that knows only the vendored sources and is offline,
# - `cargo build --offline --locked` of the binary (a debug build, in target/offline);
# - the Containerfile's build replayed (tests/deploy/container.py), which must not fetch either.
# Nothing is fetched after the vendoring: a crate missing from vendor/, or a file missing from
# the Containerfile's COPY set, fails the run.
# Usage: tests/deploy/offline.sh   (from anywhere; vendors into a temporary folder, removed after)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== cargo vendor --locked (into a temporary folder)"
# The config snippet `cargo vendor` prints on stdout is the one the README puts in
# .cargo/config.toml (`--quiet` would leave it out); one line per crate goes to stderr.
cargo vendor --locked "$WORK/crates" >"$WORK/sources.toml" 2>"$WORK/vendor.log" ||
    { cat "$WORK/vendor.log" >&2; exit 1; }
grep -q 'replace-with = "vendored-sources"' "$WORK/sources.toml"
mkdir "$WORK/cargo-home"
{
    cat "$WORK/sources.toml"
    printf '\n[net]\noffline = true\n'
} >"$WORK/cargo-home/config.toml"
export CARGO_HOME="$WORK/cargo-home"
echo "vendored $(find "$WORK/crates" -mindepth 1 -maxdepth 1 | wc -l) crates ($(du -sh "$WORK/crates" | cut -f1))"

echo "== cargo build --offline --locked --bin openbb-files (CARGO_HOME: vendored sources only)"
cargo build --quiet --offline --locked --bin openbb-files --target-dir target/offline
target/offline/debug/openbb-files --version

echo "== tests/deploy/container.py (the Containerfile's build replayed, offline)"
python3 tests/deploy/container.py
