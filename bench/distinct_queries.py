#!/usr/bin/env python3
"""Distinct queries against the response cache (issue 16): RSS stays within the cache budgets.

Starts the release binary on 127.0.0.1 over a temporary folder (a 4-row CSV with a `sector`
column, one table widget), records its idle RSS, then sends COUNT distinct GETs
`/holdings?sector=zN` (each a cache miss answered `[]`, each kept in the response cache) over
keep-alive connections, 200 requests pipelined at a time, from PROCS processes. Stops after
COUNT requests or --max-seconds, whichever comes first; samples the server's RSS every second
and prints idle, peak (VmHWM) and final RSS with the request rate. Given --bin more than once
(two builds, say before and after a change), runs each in turn with the same flags, so that
their figures come from the same conditions.

  bench/distinct_queries.py [--bin target/release/openbb-files ...] [--count 1000000]
                            [--procs 2] [--max-seconds 300] [-- extra server flags]
Loopback only; each server and its temporary folder are removed when its run ends.
"""

import argparse
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BATCH = 200


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def read_responses(sock, buffer, count):
    """Reads `count` responses (Content-Length framed); returns the rest of the buffer."""
    done = 0
    while done < count:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("connection closed")
            buffer += chunk
            continue
        head = buffer[:end].decode("latin-1")
        if not head.startswith("HTTP/1.1 200"):
            raise RuntimeError(head.splitlines()[0])
        length = int(re.search(r"(?i)content-length: *(\d+)", head).group(1))
        while len(buffer) < end + 4 + length:
            buffer += sock.recv(1 << 20)
        buffer = buffer[end + 4 + length:]
        done += 1
    return buffer


def client(port, first, last, deadline):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(30)
    buffer = b""
    sent = 0
    n = first
    while n < last and time.time() < deadline:
        batch = range(n, min(n + BATCH, last))
        sock.sendall(b"".join(
            b"GET /holdings?sector=z%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % i for i in batch))
        buffer = read_responses(sock, buffer, len(batch))
        sent += len(batch)
        n += len(batch)
    sock.close()
    return sent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", action="append")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    results = [run(binary, args) for binary in args.bin or ["target/release/openbb-files"]]
    return 0 if all(results) else 1


def run(binary, args):
    """Serves COUNT distinct requests from one server of `binary`; whether all were answered."""
    root = tempfile.mkdtemp(prefix="obf-distinct-")
    os.makedirs(f"{root}/data")
    with open(f"{root}/data/holdings.csv", "w") as out:
        out.write("ticker,sector,weight\nAAPL,Tech,0.4\nJPM,Financials,0.3\n"
                  "XOM,Energy,0.2\nMSFT,Tech,0.1\n")
    with open(f"{root}/widgets.json", "w") as out:
        out.write('{"holdings": {"name": "H", "description": "d", "endpoint": "holdings"}}')
    server = subprocess.Popen(
        [binary, "--root", root, "--host", "127.0.0.1", "--port", "0", "--quiet", *args.extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
        client(port, 0, 10, time.time() + 10)  # warm: the file parsed, a few entries
        time.sleep(1)
        idle = rss_kib(server.pid)
        started = time.time()
        deadline = started + args.max_seconds
        share = args.count // args.procs
        with multiprocessing.Pool(args.procs) as pool:
            pending = pool.starmap_async(
                client, [(port, 10 + i * share, 10 + (i + 1) * share, deadline)
                         for i in range(args.procs)])
            samples = []
            while not pending.ready():
                pending.wait(1)
                samples.append(rss_kib(server.pid))
            sent = sum(pending.get())
        took = time.time() - started
        time.sleep(1)
        print(f"requests={sent} seconds={took:.1f} rate={sent / took:.0f}/s "
              f"idle_rss_mib={idle / 1024:.1f} peak_rss_mib={rss_kib(server.pid, 'VmHWM') / 1024:.1f} "
              f"end_rss_mib={rss_kib(server.pid) / 1024:.1f} flags={' '.join(args.extra) or 'defaults'} "
              f"bin={binary}", flush=True)
        step = max(1, len(samples) // 10)
        print("rss_mib_samples=" + ",".join(f"{s / 1024:.0f}" for s in samples[::step]), flush=True)
        return sent == args.count
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
