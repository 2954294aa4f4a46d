"""What the attack scripts share (dashboard_attack.py, route_attack.py): the server started on
a free loopback port, one request on a fresh connection, and the server's CPU seconds and peak
RSS read from /proc. Loopback only; the caller stops the process it is given."""
import os, socket, subprocess


def serve(binary, root):
    """Starts `binary` over `root` on port 0; returns the process and the port it printed."""
    p = subprocess.Popen([binary, "--root", root, "--port", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    port = int(p.stdout.readline().strip().rsplit(":", 1)[1])
    return p, port


def request(port, path, method="GET", timeout=30):
    """One request with no body on its own connection; returns the status and the body."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
              "Content-Length: 0\r\n\r\n".encode())
    data = b""
    while chunk := s.recv(1 << 16):
        data += chunk
    s.close()
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split(b" ", 2)[1]), body


def stats(pid):
    """The process's CPU seconds (user + system) and peak RSS (VmHWM) in MiB."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/status") as f:
        hwm = [l for l in f if l.startswith("VmHWM")][0].split()[1]
    return cpu, int(hwm) / 1024
