# Shared by the shell tests; source it from the repository root after defining `fail MESSAGE`.
# It makes a work folder, records the PIDs a test starts (append to PIDS), and on exit stops
# exactly those and removes the folder.
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

# first_line FILE waits at most 10 s for FILE to hold a line and prints that first line;
# otherwise it calls `fail`.
first_line() {
    for _ in $(seq 100); do
        if [[ -s "$1" ]]; then
            head -n 1 "$1"
            return
        fi
        sleep 0.1
    done
    fail "nothing on $1 after 10 s"
}
