# Shared by the shell tests (source it): first_line FILE waits at most 10 s for FILE to hold a
# line and prints that first line; otherwise it calls the sourcing script's `fail`.
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
