"""Shared plumbing for the loopback stand-ins: request log, start-up, shutdown.

Standard library only. Each stand-in binds 127.0.0.1 on an OS-chosen port,
prints the port, optionally writes it to --port-file, and stops cleanly on
SIGTERM or SIGINT.
"""

import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RequestLog:
    """Appends one JSON object per line to a file; safe across threads."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)

    def write(self, record):
        line = json.dumps(record) + "\n"
        with self._lock:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps stderr readable: one short line per request."""

    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # noqa: N802 (stdlib name)
        sys.stderr.write("%s %s\n" % (self.server.name, fmt % args))

    def read_body(self):
        """Reads the request body (Content-Length or chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline().strip()
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    # Trailer section ends with an empty line.
                    while self.rfile.readline().strip():
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_bytes(self, status, body, content_type, headers=None, reason=None):
        self.send_response(status, reason)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def serve(server, name, port_file=None):
    """Runs `server` until SIGTERM/SIGINT; announces the port on stdout."""
    server.name = name
    port = server.server_address[1]
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()

    if port_file:
        # Write then rename, so a reader never sees a half-written port.
        tmp = port_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("%d\n" % port)
        os.replace(tmp, port_file)
    print("%s listening on http://127.0.0.1:%d/" % (name, port), flush=True)
    print("PORT=%d" % port, flush=True)

    while not stop.is_set():
        stop.wait(0.2)
    server.shutdown()
    server.server_close()
    print("%s stopped" % name, flush=True)
    return 0


def make_server(handler_class):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    return server


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
