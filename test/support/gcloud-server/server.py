"""A fork server for the real gcloud, for the tests only.

    PYTHON [-S] server.py SOCKET SDK_ROOT

Each gcloud process spends some 0.4 s of CPU importing gcloud's own modules before it
reads its first argument, and the tests start gcloud hundreds of times. This server does
what SDK_ROOT/lib/gcloud.py does up to the call of gcloud_main.main() once, then, for each
client (client.py, started by bin/gcloud in place of lib/gcloud.py), forks a child that
takes the client's standard streams, arguments, environment, working directory and umask,
drops what gcloud read at import time from the server's environment (its properties, the
console's attributes, the log's streams and verbosity), and runs gcloud_main.main() as
lib/gcloud.py would. The code that runs is the installed gcloud's, unchanged.

The server runs as the user who started it; its socket's folder is that user's alone,
so another user's gcloud cannot connect and runs in the ordinary way.
"""

import array
import atexit
import io
import json
import os
import signal
import socket
import struct
import sys
import traceback

SOCKET, ROOT = sys.argv[1], sys.argv[2]
GCLOUD_PY = os.path.join(ROOT, "lib", "gcloud.py")

# As `python lib/gcloud.py`: the script's folder first on sys.path, its name in argv[0].
sys.path[0] = os.path.dirname(GCLOUD_PY)
sys.argv = [GCLOUD_PY]
import gcloud as gcloud_py  # noqa: E402  (lib/gcloud.py; it adds third_party to sys.path)

# gcloud.py's main() up to gcloud_main.main(), in its order.
sys.path = gcloud_py.reorder_sys_path(sys.path)
from googlecloudsdk.core.util import encoding  # noqa: E402,F401

gcloud_py._fix_google_module()
gcloud_main = gcloud_py._import_gcloud_main()

from googlecloudsdk.core import log  # noqa: E402
from googlecloudsdk.core.configurations import named_configs  # noqa: E402
from googlecloudsdk.core.console import console_attr  # noqa: E402

# The modules the tests' commands load after parsing (preload.txt), loaded here once.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "preload.txt"), encoding="utf-8") as f:
    for module in f.read().split("\n"):
        if module and not module.startswith("#"):
            try:
                __import__(module)
            except ImportError:  # gone from this gcloud: its calls load what they need
                pass


LOG = os.environ.get("ARPYPI_GCLOUD_SERVER_LOG")
PRELOADED = set(sys.modules)


def stream(fd, old):
    """A text stream on FD, as Python makes sys.stdout at start-up (line-buffered on a terminal)."""
    return io.TextIOWrapper(
        io.open(fd, "rb" if fd == 0 else "wb", buffering=-1, closefd=False),
        encoding=old.encoding, errors=old.errors,
        line_buffering=fd != 0 and os.isatty(fd), write_through=False)


def serve_one(conn):
    """The forked child: becomes the client's gcloud, reports its exit status, and exits."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    request = json.loads(msg.decode("utf-8"))
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    conn.sendall(struct.pack("!i", os.getpid()))
    os.chdir(request["cwd"])
    os.umask(request["umask"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [GCLOUD_PY] + request["args"]
    sys.stdin = sys.__stdin__ = stream(0, sys.__stdin__)
    sys.stdout = sys.__stdout__ = stream(1, sys.__stdout__)
    sys.stderr = sys.__stderr__ = stream(2, sys.__stderr__)
    # What gcloud read at import time, from the server's environment, read again from the client's.
    named_configs.ActivePropertiesFile.Invalidate()
    console_attr.ResetConsoleAttr()
    log.Reset(sys.stdout, sys.stderr)
    code = 0
    try:
        sys.exit(gcloud_main.main())
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:
            sys.stderr.write("%s\n" % exit_.code)
            code = 1
    except KeyboardInterrupt:
        code = 128 + signal.SIGINT
    except BaseException:  # noqa: BLE001  as the interpreter reports an uncaught exception
        traceback.print_exc()
        code = 1
    if LOG:
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps({"args": request["args"][:3], "cpu": sum(os.times()[:2]),
                                "modules": sorted(set(sys.modules) - PRELOADED)}) + "\n")
    try:
        atexit._run_exitfuncs()
    finally:
        for out in (sys.stdout, sys.stderr):
            try:
                out.flush()
            except Exception:  # noqa: BLE001  a closed pipe: nothing more to say
                pass
        try:
            conn.sendall(struct.pack("!i", code & 0xFF))
        finally:
            os._exit(code & 0xFF)


def main():
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(SOCKET)
    server.listen(64)
    # Ends with the test run that started it, even one that could not say so.
    server.settimeout(2)
    parent = os.getppid()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            if os.getppid() != parent:
                sys.exit(0)
            continue
        conn.settimeout(None)
        if os.fork() == 0:
            server.close()
            serve_one(conn)
        conn.close()


main()
