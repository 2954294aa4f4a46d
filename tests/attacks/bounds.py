"""The figures of RELIABILITY.md, "POST work, browser-borne requests and listing (issue 16)".

Usage: python3 tests/attacks/bounds.py target/release/openbb-files
Starts the server on 127.0.0.1 (a free port) over a fixture folder of its own (a 5 MB PDF, a
200 MB single-line .txt, ...), runs each attack with several clients at once while a normal
client GETs a small table every 50 ms, and prints one table row per attack: statuses, answer
size, time, peak RSS, CPU seconds of the server, the normal client's latency. Then the listing
cases (link loops, a 100,000-column CSV) on folders without widgets.json. Loopback only; it
stops the servers it starts and removes its folders; about a minute.
"""
import contextlib, json, os, socket, subprocess, sys, tempfile, threading, time

BIN = sys.argv[1] if len(sys.argv) > 1 else None
TICK = os.sysconf("SC_CLK_TCK")
JSON = {"Content-Type": "application/json"}

def fixture():
    root = tempfile.mkdtemp(prefix="obf-i16-")
    os.makedirs(f"{root}/data/filings"); os.makedirs(f"{root}/data/notes"); os.makedirs(f"{root}/data/huge")
    open(f"{root}/data/filings/a.pdf", "w").write("%PDF-1.4\n" + "a" * 20000 + "\n%%EOF\n")
    open(f"{root}/data/filings/big.pdf", "w").write("%PDF-1.4\n" + "x" * (5 << 20) + "\n%%EOF\n")
    open(f"{root}/data/notes/n.md", "w").write(("margin line " + " ".join(f"w{i}" for i in range(30)) + "\n") * 20000)
    with open(f"{root}/data/huge/line.txt", "w") as f:
        f.write("word " * (40 << 20)); f.write(" needle at the end")
    open(f"{root}/data/prices.csv", "w").write("ticker,close\n" + "AAPL,1\n" * 1000)
    json.dump({
        "filings": {"name": "F", "description": "d", "type": "multi_file_viewer", "endpoint": "filings",
                    "params": [{"paramName": "filenames", "type": "endpoint", "roles": ["fileSelector"],
                                "optionsEndpoint": "filings/list", "multiSelect": True}]},
        "search": {"name": "S", "description": "d", "type": "omni", "endpoint": "search", "backend": {"folder": "notes"}},
        "huge": {"name": "H", "description": "d", "type": "omni", "endpoint": "huge", "backend": {"folder": "huge"}},
        "prices": {"name": "P", "description": "d", "endpoint": "prices"},
    }, open(f"{root}/widgets.json", "w"))
    return root

def request(port, method, path, body=b"", headers=None, timeout=120):
    headers = {"Host": "localhost", "Connection": "close", "Content-Length": str(len(body)), **(headers or {})}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(head.encode() + body)
    out = b""
    while chunk := s.recv(1 << 20):
        out += chunk
    s.close()
    status = int(out.split(b" ", 2)[1]) if out else 0
    return status, out.split(b"\r\n\r\n", 1)[-1]

def stats(pid):
    status = open(f"/proc/{pid}/status").read()
    hwm = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM"))
    rss = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmRSS"))
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    return hwm // 1024, rss // 1024, cpu

@contextlib.contextmanager
def serving(root):
    """The server over `root` on a free loopback port: yields its port and pid, then stops it and
    removes `root`."""
    server = subprocess.Popen([BIN, "--root", root, "--port", "0", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield int(server.stdout.readline().strip().rsplit(":", 1)[1]), server.pid
    finally:
        server.terminate(); server.wait()
        subprocess.run(["rm", "-rf", root])

def posting(port, path, body, headers=JSON):
    """A job for `attack`: POSTs `body` as JSON (with `headers`) to `path`."""
    return lambda: request(port, "POST", path, json.dumps(body).encode(), headers)

def attack(port, pid, name, jobs):
    """Runs `jobs` (callables) at once while a normal client GETs /prices; prints the figures."""
    _, _, cpu0 = stats(pid)
    results, latencies, done = [None] * len(jobs), [], threading.Event()
    def normal():
        while not done.is_set():
            t = time.perf_counter(); request(port, "GET", "/prices", timeout=30)
            latencies.append(time.perf_counter() - t); time.sleep(0.05)
    def run(i, job):
        t = time.perf_counter(); status, body = job(); results[i] = (status, len(body), time.perf_counter() - t, body[:160])
    watcher = threading.Thread(target=normal); watcher.start()
    threads = [threading.Thread(target=run, args=(i, j)) for i, j in enumerate(jobs)]
    t = time.perf_counter()
    for th in threads: th.start()
    for th in threads: th.join()
    wall = time.perf_counter() - t
    done.set(); watcher.join()
    hwm, rss, cpu1 = stats(pid)
    statuses = sorted({r[0] for r in results})
    print(f"| {name} | {statuses} {results[0][1]} B, {max(r[2] for r in results):.2f} s | peak RSS {hwm} MB (now {rss}) | CPU {cpu1 - cpu0:.2f} s | normal GET max {1000 * max(latencies):.0f} ms, median {1000 * sorted(latencies)[len(latencies)//2]:.1f} ms ({len(latencies)}) |")
    print("   first answer:", results[0][3])

def main():
    with serving(fixture()) as (port, pid):
        request(port, "GET", "/prices")
        print("idle", stats(pid))
        post = lambda path, body, headers=JSON: posting(port, path, body, headers)
        attack(port, pid, "2 x 800,000 names of one PDF", [post("/filings", {"filenames": ["a.pdf"] * 800_000})] * 2)
        attack(port, pid, "4 x 1,000 names of a 5 MB PDF", [post("/filings", {"filenames": ["big.pdf"] * 1000})] * 4)
        attack(port, pid, "4 x 100 distinct names (101st refused)", [post("/filings", {"filenames": [f"n{i}.pdf" for i in range(101)]})] * 4)
        attack(port, pid, "4 x a 500,000-word prompt", [post("/search", {"prompt": "margin " * 500_000})] * 4)
        attack(port, pid, "4 x 32-word prompt, 31 words on each of 20,000 lines", [post("/search", {"prompt": " ".join([f"w{i}" for i in range(30)] + ["margin", "absent"])})] * 4)
        attack(port, pid, "1 x search of a 200 MB single-line .txt (first read: file cache fills)", [post("/huge", {"prompt": "needle end"})])
        attack(port, pid, "4 x search of the same 200 MB line for 32 absent words", [post("/huge", {"prompt": " ".join(f"absent{i}" for i in range(32))})] * 4)
        attack(port, pid, "4 x text/plain POST (simple request)", [post("/search", {"prompt": "margin"}, {"Content-Type": "text/plain;charset=UTF-8"})] * 4)
        attack(port, pid, "4 x Host: rebind.example", [lambda: request(port, "GET", "/files/filings/big.pdf", headers={"Host": "rebind.example"})] * 4)

def listing():
    """Zero configuration over data/ with link loops, and over a 100,000-column CSV."""
    for name in ["loops", "wide"]:
        root = tempfile.mkdtemp(prefix="obf-i16-")
        os.makedirs(f"{root}/data/notes")
        open(f"{root}/data/prices.csv", "w").write("ticker,close\nAAPL,1\n")
        open(f"{root}/data/notes/a.md", "w").write("# A\n")
        if name == "loops":
            for n in (1, 2, 3):
                os.symlink(".", f"{root}/data/loop{n}")
        else:
            n = 100_000
            open(f"{root}/data/wide.csv", "w").write(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(str(i) for i in range(n)) + "\n")
        t = time.perf_counter()
        with serving(root) as (port, pid):
            status, body = request(port, "GET", "/widgets.json")
            start = time.perf_counter() - t
            _, _, cpu0 = stats(pid)
            t = time.perf_counter()
            for _ in range(20):
                request(port, "GET", "/")
            hwm, rss, cpu1 = stats(pid)
            print(f"| {name}: start + /widgets.json {start:.2f} s, {len(json.loads(body))} widgets | 20 x GET / {time.perf_counter() - t:.3f} s, CPU {cpu1 - cpu0:.3f} s | peak RSS {hwm} MB |")

if __name__ == "__main__":  # imported by the other attack scripts for its helpers
    main() if sys.argv[2:] != ["listing"] else None
    listing()
