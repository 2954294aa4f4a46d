#!/usr/bin/env bash
# Property-based fuzzing (tests/fuzz.rs) for longer than `cargo test` does:
#   fuzz/run.sh            # 20,000 cases per property, optimized build
#   fuzz/run.sh 2000       # another case count
# Each property must not panic, hang (a watchdog ends the run) or read outside data/.
# A failure prints the minimal failing input proptest shrank it to.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-20000}"
echo "== fuzzing with ${cases} cases per property"
start=$(date +%s)
FUZZ_CASES="$cases" cargo test --profile fuzz --test fuzz -- --test-threads 2
echo "== ${cases} cases per property, 8 properties, in $(($(date +%s) - start)) s"
