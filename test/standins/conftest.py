"""Fixtures shared by the stand-in tests: start/stop a server, read its log."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile

import pytest

import iam
from wheels import make_wheel  # noqa: F401 (the tests' and test/support/e2e.ts's wheel maker)

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


def call(server, method, path, member=None, body=None):
    """One request to a stand-in as MEMBER (its bearer token; none without): (status, JSON body)."""
    headers = {"Content-Type": "application/json"}
    if member:
        headers["Authorization"] = "Bearer " + iam.token_for(member)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path.lstrip("/"), data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def upload_source(server, files):
    """PUTs a zip of FILES ({name: text}) to the stand-in's upload URL; returns its object name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    obj = "%s.zip" % uuid.uuid4()
    request = urllib.request.Request(server.url + "upload/" + obj, data=buffer.getvalue(), method="PUT",
                                     headers={"Content-Type": "application/zip"})
    with urllib.request.urlopen(request, timeout=10):
        return obj


def create_function(server, member, project, region, name, source, build_account=None, **fields):
    """functions.create as gcloud sends it (the parts the stand-in reads): (status, operation)."""
    build = {"runtime": "python312", "entryPoint": "handler", "source": {"storageSource": {"bucket": "gcf-v2-uploads", "object": source}}}
    if build_account:
        build["serviceAccount"] = "projects/%s/serviceAccounts/%s" % (project, build_account)
    build.update(fields.pop("buildConfig", {}))
    body = dict({"name": "projects/%s/locations/%s/functions/%s" % (project, region, name), "buildConfig": build}, **fields)
    return call(server, "POST", "/v2/projects/%s/locations/%s/functions?functionId=%s" % (project, region, name), member, body)


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
