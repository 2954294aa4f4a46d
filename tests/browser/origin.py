"""A stand-in for Workspace's HTTPS origin in the browser test: serves page.html over TLS on
127.0.0.1 (a free port), for every path, whatever host name the browser used.

Usage: python3 origin.py CERT KEY PAGE
Prints the port on the first stdout line, then serves until terminated.
"""

import http.server
import ssl
import sys


def main() -> None:
    cert, key, page = sys.argv[1:4]
    with open(page, "rb") as f:
        body = f.read()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write("origin: " + format % args + "\n")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
