#!/usr/bin/env python3
"""live_grid under attack (issue 16): the figures of RELIABILITY.md's "live_grid" section.
Python 3 stdlib only, loopback only; stops the server it starts.

  live_attack.py flood     --bin B [--rows 20000] [--sockets 256] [--addresses 8] [--seconds 20]
  live_attack.py handshake --bin B [--rows 200000]

flood:     a live_grid over a CSV of --rows rows, rewritten (every price changed) four times a
           second. --sockets WebSockets that never read after the handshake (4 KiB receive
           buffers), spread over --addresses source addresses (127.0.0.1, 127.0.0.2, ...), plus
           one that connects from 127.0.0.1 alone first to count what the per-address cap admits.
           Meanwhile a normal client reads every row, and `/` and a fresh handshake are timed
           every half second. Prints the handshake answers by status, the server's peak RSS
           (VmHWM) and CPU seconds, `live_queued_bytes` at its highest, the latency of `/` and
           of a handshake, and how long after each rewrite the reading client had its first row.
handshake: the time of the first and of later handshakes on a --rows-row file and a 10-row one.
"""

import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

KEY = "dGhlIHNhbXBsZSBub25jZQ=="

WIDGETS = {
    name: {
        "name": name,
        "description": "d",
        "type": "live_grid",
        "endpoint": name,
        "wsEndpoint": f"ws/{name}",
        "data": {"wsRowIdColumn": "symbol"},
    }
    for name in ("quotes", "small")
}


def csv_text(rows, version):
    lines = ["symbol,price,volume,note"]
    lines += [f"S{i},{version}.{i % 100:02d},{i * 7 + version},row {i}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def replace(path, text):
    with open(path + ".tmp", "w") as out:
        out.write(text)
    os.rename(path + ".tmp", path)


def start_server(binary, root):
    server = subprocess.Popen(
        [binary, "--root", root, "--port", "0", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    line = server.stdout.readline().strip()
    if not line.startswith("listening on http://"):
        server.kill()
        sys.exit(f"the server did not start: {line!r}")
    host, port = line.removeprefix("listening on http://").rsplit(":", 1)
    return server, (host, int(port))


def status_of(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def handshake(address, target, source="127.0.0.1", receive_buffer=None):
    """Opens a WebSocket; returns (status, socket or None, seconds to the answer's head)."""
    started = time.monotonic()
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((source, 0))
    sock.settimeout(10)
    sock.connect(address)
    sock.sendall(
        (
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
            f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {KEY}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # byte by byte: nothing after the head is taken from the socket
        if not chunk:
            break
        head += chunk
    took = time.monotonic() - started
    status = int(head.split()[1]) if head else 0
    if status != 101:
        sock.close()
        return status, None, took
    return status, sock, took


def get_json(address, path):
    started = time.monotonic()
    with urllib.request.urlopen(f"http://{address[0]}:{address[1]}{path}", timeout=10) as answer:
        body = json.load(answer)
    return body, time.monotonic() - started


def read_frames(sock):
    """Yields the payload of each text frame the server sends (server frames are not masked)."""
    buffer, at = bytearray(), 0

    def need(count):
        nonlocal buffer, at
        while len(buffer) - at < count:
            if at:
                del buffer[:at]
                at = 0
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise EOFError
            buffer += chunk

    while True:
        need(2)
        opcode, length, head = buffer[at] & 0x0F, buffer[at + 1] & 0x7F, 2
        if length == 126:
            need(4)
            length, head = int.from_bytes(buffer[at + 2 : at + 4], "big"), 4
        elif length == 127:
            need(10)
            length, head = int.from_bytes(buffer[at + 2 : at + 10], "big"), 10
        need(head + length)
        payload = bytes(buffer[at + head : at + head + length])
        at += head + length
        if opcode == 0x1:
            yield payload
        elif opcode == 0x8:
            return


def flood(args, root, server, address):
    path = os.path.join(root, "data", "quotes.csv")
    written = {}  # version -> when it was written
    arrived = {}  # version -> when the reading client had its first row
    stop = threading.Event()

    def rewrite():
        version = 1
        while not stop.is_set():
            version += 1
            replace(path, csv_text(args.rows, version))
            written[version] = time.monotonic()
            time.sleep(0.25)

    def read(sock):
        sock.settimeout(30)
        try:
            for row in read_frames(sock):
                # `{"symbol":"S1","price":7.01,...}`: the version is the price's whole part.
                price = row.index(b'"price":') + 8
                version = int(row[price : row.index(b".", price)])
                arrived.setdefault(version, time.monotonic())
                if stop.is_set():
                    return
        except (OSError, EOFError):
            pass

    _, reader, _ = handshake(address, "/ws/quotes")
    threading.Thread(target=read, args=(reader,), daemon=True).start()
    threading.Thread(target=rewrite, daemon=True).start()
    time.sleep(1)

    sockets = []

    def attack(sources):
        statuses = collections.Counter()
        for source in sources:
            status, sock, _ = handshake(address, "/ws/quotes", source, receive_buffer=4096)
            statuses[status] += 1
            if sock:
                sockets.append(sock)
        return dict(sorted(statuses.items()))

    print(f"40 handshakes from 127.0.0.1 alone: {attack(['127.0.0.1'] * 40)}")
    spread = [f"127.0.0.{1 + i % args.addresses}" for i in range(args.sockets)]
    print(f"{args.sockets} more from {args.addresses} addresses: {attack(spread)}")

    peak_rss, most_queued, info_times, handshake_times = 0, 0, [], []
    ends = time.monotonic() + args.seconds
    cpu_before = cpu_seconds(server.pid)
    while time.monotonic() < ends:
        peak_rss = max(peak_rss, status_of(server.pid, "VmRSS"))
        info, took = get_json(address, "/")
        info_times.append(took)
        most_queued = max(most_queued, info["live_queued_bytes"])
        status, sock, took = handshake(address, "/ws/small", "127.0.0.254")
        handshake_times.append(took)
        if sock:
            sock.close()
        time.sleep(0.5)
    cpu = cpu_seconds(server.pid) - cpu_before
    stop.set()
    info, _ = get_json(address, "/")
    lags = sorted(arrived[v] - written[v] for v in arrived if v in written)
    print(f"open sockets at the end: {info['live_subscribers']}")
    print(f"peak RSS {status_of(server.pid, 'VmHWM') / 2**20:.1f} MiB (sampled {peak_rss / 2**20:.1f})")
    print(f"CPU {cpu:.1f} s over {args.seconds} s")
    print(f"live_queued_bytes at most {most_queued / 2**20:.2f} MiB")
    print(f"GET /: median {median(info_times)} ms, max {max(info_times) * 1000:.1f} ms")
    print(f"handshake: median {median(handshake_times)} ms, max {max(handshake_times) * 1000:.1f} ms")
    if lags:
        print(
            f"reading client, rewrite -> first row: median {median(lags)} ms, "
            f"max {lags[-1] * 1000:.1f} ms over {len(lags)} versions"
        )
    for sock in sockets:
        sock.close()


def handshakes(args, root, server, address):
    for name, rows in (("quotes", args.rows), ("small", 10)):
        times = [handshake(address, f"/ws/{name}")[2] for _ in range(6)]
        later = ", ".join(f"{t * 1000:.2f}" for t in times[1:])
        print(f"{rows} rows: first handshake {times[0] * 1000:.1f} ms, later ones {later} ms")


def median(seconds):
    return f"{sorted(seconds)[len(seconds) // 2] * 1000:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["flood", "handshake"])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--rows", type=int)
    parser.add_argument("--sockets", type=int, default=256)
    parser.add_argument("--addresses", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    args.rows = args.rows or (20000 if args.mode == "flood" else 200000)
    with tempfile.TemporaryDirectory() as root:
        os.mkdir(os.path.join(root, "data"))
        with open(os.path.join(root, "widgets.json"), "w") as out:
            json.dump(WIDGETS, out)
        replace(os.path.join(root, "data", "quotes.csv"), csv_text(args.rows, 1))
        replace(os.path.join(root, "data", "small.csv"), csv_text(10, 1))
        server, address = start_server(args.bin, root)
        try:
            (flood if args.mode == "flood" else handshakes)(args, root, server, address)
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
