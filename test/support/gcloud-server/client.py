"""Runs gcloud in a fork of the tests' gcloud server (server.py), or as lib/gcloud.py would.

    PYTHON [ARGS] client.py SOCKET GCLOUD_PY [GCLOUD ARGS...]

Started by the tests' bin/gcloud in place of lib/gcloud.py, with the same Python and
arguments. Hands the server this process's standard streams, arguments, environment,
working directory and umask, passes on the signals it gets, and exits with gcloud's status.
When the server cannot be reached (another user, a server not running), runs gcloud here.
"""

import os
import signal
import socket
import struct
import sys


def run_here(gcloud_py, args):
    flags = sys.orig_argv[1:sys.orig_argv.index(sys.argv[0])]
    os.execv(sys.executable, [sys.executable] + flags + [gcloud_py] + args)


def receive(conn, size=4):
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return struct.unpack("!i", data)[0]


def main():
    sock_path, gcloud_py, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    try:
        cwd = os.getcwd()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(sock_path)
    except OSError:
        run_here(gcloud_py, args)
    import json
    umask = os.umask(0)
    os.umask(umask)
    request = json.dumps({"args": args, "env": dict(os.environ), "cwd": cwd, "umask": umask})
    socket.send_fds(conn, [request.encode("utf-8")], [0, 1, 2])
    pid = receive(conn)
    if pid is None:
        sys.stderr.write("gcloud's test server closed the connection before running gcloud\n")
        sys.exit(1)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: os.kill(pid, number))
    code = receive(conn)
    if code is None:
        sys.stderr.write("gcloud (pid %d) ended without an exit status\n" % pid)
        sys.exit(1)
    sys.exit(code)


main()
