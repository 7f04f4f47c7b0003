"""Fixtures shared by the stand-in tests: start/stop a server, read its log."""

import base64
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import zipfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


class Server:
    def __init__(self, script, data_dir, args=()):
        self.data_dir = data_dir
        self.stopped = None
        os.makedirs(data_dir, exist_ok=True)
        port_file = os.path.join(data_dir, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.stderr = open(os.path.join(data_dir, "server.stderr"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, script), "--port-file", port_file, "--data-dir", data_dir, *args],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("%s did not start: %s" % (script, self.proc.stdout.read()))
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d/" % self.port

    def requests(self):
        path = os.path.join(self.data_dir, "requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.stopped is not None:
            return self.stopped
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        out = self.proc.stdout.read()
        self.proc.stdout.close()
        self.stderr.close()
        self.stopped = (self.proc.returncode, out)
        return self.stopped


def base_env(home):
    """The machine's environment minus pip/keyring settings that would leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON_KEYRING", "CLOUDSDK_", "AR_STANDIN"))}
    env.pop("PYTHONPATH", None)
    env.update(
        HOME=str(home),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_CACHE_DIR="1",
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    os.makedirs(home, exist_ok=True)
    return env


def make_wheel(directory, name, version, requires_python=">=3.8"):
    """Writes a minimal pure-Python wheel (and a matching sdist); returns their paths."""
    dist = name.replace("-", "_")
    module = dist.lower()
    files = {
        "%s/__init__.py" % module: ("VERSION = %r\n" % version).encode(),
        "%s-%s.dist-info/METADATA" % (dist, version): (
            "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: stand-in test package\n"
            "Requires-Python: %s\n" % (name, version, requires_python)
        ).encode(),
        "%s-%s.dist-info/WHEEL" % (dist, version): (
            b"Wheel-Version: 1.0\nGenerator: standins\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record_name = "%s-%s.dist-info/RECORD" % (dist, version)
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append("%s,," % record_name)
    files[record_name] = ("\n".join(record) + "\n").encode()
    os.makedirs(directory, exist_ok=True)
    wheel = os.path.join(directory, "%s-%s-py3-none-any.whl" % (dist, version))
    with zipfile.ZipFile(wheel, "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
    sdist = os.path.join(directory, "%s-%s.tar.gz" % (dist.lower(), version))
    pkg_info = files["%s-%s.dist-info/METADATA" % (dist, version)]
    with tarfile.open(sdist, "w:gz") as t:
        info = tarfile.TarInfo("%s-%s/PKG-INFO" % (dist.lower(), version))
        info.size = len(pkg_info)
        t.addfile(info, io.BytesIO(pkg_info))
    return wheel, sdist


@pytest.fixture
def start_server(tmp_path):
    """start_server(script, data_dir=None, args=()) -> Server; stopped (and checked) at teardown."""
    servers = []

    def start(script, data_dir=None, args=()):
        server = Server(script, str(data_dir or tmp_path / ("data-%d" % len(servers))), args)
        servers.append(server)
        return server

    yield start
    failures = []
    for server in servers:  # stop every server, even after a failure
        try:
            code, _ = server.stop()
            if code != 0:
                failures.append("%s exited %s on SIGTERM" % (server.data_dir, code))
        except Exception as error:  # noqa: BLE001
            failures.append("%s: %r" % (server.data_dir, error))
    assert not failures, failures
