"""pypi_index.py against the real twine and pip of this machine."""

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from conftest import HERE, base_env, make_wheel

TOKEN = "T0KEN-standin"
NATIVE = "NATIVE-standin"
USER = "oauth2accesstoken"


def twine_python():
    """The interpreter twine runs on (Debian's): it has keyring, pip and venv."""
    twine_path = shutil.which("twine")
    if twine_path:
        with open(twine_path, "rb") as f:
            first = f.readline().decode("utf-8", "replace").strip()
        if first.startswith("#!") and os.path.isabs(first[2:].split()[0]):
            return first[2:].split()[0]
    return sys.executable


SYSTEM_PYTHON = twine_python()


def run(cmd, env, **kw):
    return subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, **kw)


@pytest.fixture(scope="session")
def venv(tmp_path_factory):
    path = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(path)], check=True)
    return path


@pytest.fixture(scope="session")
def venv_system_site(tmp_path_factory):
    # Without its own pip, the venv runs Debian's pip from the system site-packages.
    path = tmp_path_factory.mktemp("venv-sys") / "v"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", "--without-pip", str(path)], check=True)
    return path


@pytest.fixture
def index(start_server):
    return start_server("pypi_index.py", args=["--token", TOKEN, "--token", NATIVE])


def get(url, user=None, password=None):
    request = urllib.request.Request(url)
    if user is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode())
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def twine(args, env):
    return run(["twine", "upload", "--non-interactive", *args], env)


def test_twine_upload_duplicate_and_skip_existing(index, tmp_path):
    env = base_env(tmp_path / "home")
    wheel, sdist = make_wheel(str(tmp_path / "dist"), "Demo_Pkg", "0.1.0")
    auth = ["--repository-url", index.url, "-u", USER, "-p", TOKEN]

    first = twine(auth + [wheel, sdist], env)
    assert first.returncode == 0, first.stdout + first.stderr

    second = twine(auth + [wheel], env)
    assert second.returncode != 0
    assert "400" in second.stdout + second.stderr
    assert "already exists" in second.stdout + second.stderr

    skipped = twine(["--skip-existing"] + auth + [wheel, sdist], env)
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr

    uploads = [r for r in index.requests() if r["method"] == "POST"]
    assert [r["status"] for r in uploads] == [200, 200, 400, 400, 400]
    assert uploads[0]["upload"]["name"] == "Demo_Pkg" or uploads[0]["upload"]["name"] == "Demo-Pkg"
    assert {r["user"] for r in uploads} == {USER}
    log_text = open(os.path.join(index.data_dir, "requests.jsonl")).read()
    assert TOKEN not in log_text


def test_twine_wrong_token_is_401(index, tmp_path):
    env = base_env(tmp_path / "home")
    wheel, _ = make_wheel(str(tmp_path / "dist"), "demo-bad", "1.0")
    result = twine(["--repository-url", index.url, "-u", USER, "-p", "wrong", wheel], env)
    assert result.returncode != 0
    assert "401" in result.stdout + result.stderr
    assert index.requests()[-1]["status"] == 401


def test_simple_api_over_http(index, tmp_path):
    env = base_env(tmp_path / "home")
    wheel, _ = make_wheel(str(tmp_path / "dist"), "Demo_Pkg", "0.1.0")
    assert twine(["--repository-url", index.url, "-u", USER, "-p", TOKEN, wheel], env).returncode == 0

    status, headers, _ = get(index.url + "simple/")
    assert status == 401 and headers["WWW-Authenticate"] == 'Basic realm="pypi"'
    assert get(index.url + "simple/", "someone", TOKEN)[0] == 401
    assert get(index.url + "simple/", USER, "nope")[0] == 401

    status, _, body = get(index.url + "simple/", USER, TOKEN)
    assert status == 200 and b'href="/simple/demo-pkg/"' in body

    status, headers, _ = get(index.url + "simple/Demo_Pkg/", USER, TOKEN)
    assert status == 301 and headers["Location"] == "/simple/demo-pkg/"
    status, headers, _ = get(index.url + "simple/demo-pkg", USER, TOKEN)
    assert status == 301 and headers["Location"] == "/simple/demo-pkg/"
    assert get(index.url + "simple/unknown-project/", USER, TOKEN)[0] == 404

    status, headers, body = get(index.url + "simple/demo-pkg/", USER, TOKEN)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    digest = hashlib.sha256(open(wheel, "rb").read()).hexdigest()
    link = "/packages/Demo_Pkg-0.1.0-py3-none-any.whl#sha256=%s" % digest
    assert link.encode() in body
    assert b'data-requires-python="&gt;=3.8"' in body

    assert get(index.url + link.split("#")[0][1:])[0] == 401
    status, _, data = get(index.url + link.split("#")[0][1:], USER, NATIVE)
    assert status == 200 and hashlib.sha256(data).hexdigest() == digest

    # A wrong sha256_digest is refused.
    boundary = "xyzzy"
    parts = [(":action", "file_upload"), ("name", "other"), ("version", "1"), ("sha256_digest", "0" * 64)]
    body = b"".join(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (boundary.encode(), k.encode(), v.encode()) for k, v in parts)
    body += b'--%s\r\nContent-Disposition: form-data; name="content"; filename="other-1.tar.gz"\r\n\r\nabc\r\n--%s--\r\n' % (boundary.encode(), boundary.encode())
    request = urllib.request.Request(index.url, data=body, method="POST")
    request.add_header("Content-Type", "multipart/form-data; boundary=" + boundary)
    request.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (USER, TOKEN)).encode()).decode())
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400 and b"sha256" in raised.value.read()

    # Every request is logged with the user name only.
    records = index.requests()
    assert all(set(r) >= {"ts", "method", "path", "status", "user"} for r in records)
    assert {r["user"] for r in records} == {None, "someone", USER}


def test_state_survives_a_restart(start_server, tmp_path):
    env = base_env(tmp_path / "home")
    data = tmp_path / "shared-data"
    first = start_server("pypi_index.py", data_dir=data, args=["--token", TOKEN])
    wheel, _ = make_wheel(str(tmp_path / "dist"), "kept", "2.0")
    assert twine(["--repository-url", first.url, "-u", USER, "-p", TOKEN, wheel], env).returncode == 0
    assert first.stop()[0] == 0
    second = start_server("pypi_index.py", data_dir=data, args=["--token", TOKEN])
    assert b"kept-2.0" in get(second.url + "simple/kept/", USER, TOKEN)[2]
    assert len(second.requests()) == 2  # the log is appended to, not replaced


def test_pip_install_with_token_in_url_and_wrong_token(index, venv, tmp_path):
    env = base_env(tmp_path / "home")
    wheel, sdist = make_wheel(str(tmp_path / "dist"), "Demo_Pkg", "0.1.0")
    assert twine(["--repository-url", index.url, "-u", USER, "-p", TOKEN, wheel, sdist], env).returncode == 0
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    url = "http://%s:%s@127.0.0.1:%d/simple/" % (USER, TOKEN, index.port)

    installed = run(pip + ["install", "--no-cache-dir", "--index-url", url, "demo.pkg==0.1.0"], env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    check = run([str(venv / "bin" / "python"), "-c", "import demo_pkg; print(demo_pkg.VERSION)"], env)
    assert check.stdout.strip() == "0.1.0"

    wrong = "http://%s:wrong@127.0.0.1:%d/simple/" % (USER, index.port)
    failed = run(pip + ["download", "--no-deps", "-d", str(tmp_path / "dl"), "--index-url", wrong, "demo-pkg"], env)
    assert failed.returncode != 0
    assert "401" in failed.stdout + failed.stderr


def test_pip_native_netrc(index, venv, tmp_path):
    """Google's function build writes a .netrc; pip sends it without a 401 round trip."""
    env = base_env(tmp_path / "home")
    wheel, _ = make_wheel(str(tmp_path / "dist"), "netrc-pkg", "1.0")
    assert twine(["--repository-url", index.url, "-u", USER, "-p", TOKEN, wheel], env).returncode == 0
    netrc = tmp_path / "home" / ".netrc"
    netrc.write_text("machine 127.0.0.1 login %s password %s\n" % (USER, NATIVE))
    netrc.chmod(0o600)
    before = len(index.requests())
    result = run([str(venv / "bin" / "python"), "-m", "pip", "download", "--no-deps", "-d", str(tmp_path / "dl"),
                  "--index-url", index.url + "simple/", "netrc-pkg"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    gets = index.requests()[before:]
    assert [(r["path"], r["status"], r["user"]) for r in gets] == [
        ("/simple/netrc-pkg/", 200, USER),
        ("/packages/netrc_pkg-1.0-py3-none-any.whl", 200, USER),
    ]


def keyring_env(tmp_path, token):
    env = base_env(tmp_path / "home")
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    env.update(
        PYTHONPATH=os.path.join(HERE, "keyring_backend"),
        PYTHON_KEYRING_BACKEND="ar_standin_keyring.StandinBackend",
        AR_STANDIN_TOKEN_FILE=str(token_file),
    )
    return env


def test_keyring_backend_with_twine(index, tmp_path):
    env = keyring_env(tmp_path, TOKEN)
    wheel, _ = make_wheel(str(tmp_path / "dist"), "kr-pkg", "1.0")
    result = twine(["--repository-url", index.url, wheel], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert index.requests()[-1]["status"] == 200
    # The same backend through keyring's own CLI, and refusing to store.
    got = run([SYSTEM_PYTHON, "-m", "keyring", "get", index.url, USER], env)
    assert got.stdout.strip() == TOKEN
    refused = run([SYSTEM_PYTHON, "-c", "import keyring; keyring.set_password('u', 'x', 'y')"], env)
    assert refused.returncode != 0 and "read-only" in refused.stderr


def test_keyring_backend_with_pip(index, venv, venv_system_site, tmp_path):
    env = keyring_env(tmp_path, NATIVE)
    wheel, _ = make_wheel(str(tmp_path / "dist"), "kr-pip", "1.0")
    assert twine(["--repository-url", index.url, "-u", USER, "-p", TOKEN, wheel], env).returncode == 0

    def download(python, url):
        return run([python, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path / "dl"),
                    "--index-url", url, "kr-pip"], env)

    plain_url = index.url + "simple/"
    user_url = "http://%s@127.0.0.1:%d/simple/" % (USER, index.port)
    # pip 23.0 imports keyring when it can (system pip, --system-site-packages venv) ...
    assert download(SYSTEM_PYTHON, plain_url).returncode == 0
    assert download(str(venv_system_site / "bin" / "python"), plain_url).returncode == 0
    # ... else falls back to the `keyring` command, which needs the user name in the URL.
    assert download(str(venv / "bin" / "python"), plain_url).returncode != 0
    result = download(str(venv / "bin" / "python"), user_url)
    assert result.returncode == 0, result.stdout + result.stderr


def test_remote_and_virtual_repositories_choose_by_priority_per_version(start_server, tmp_path):
    """The private repository wins a version both upstreams have; other versions still show (as Google's do)."""
    server = start_server("pypi_index.py", args=["--token", TOKEN, "--remote", "pypi-remote",
                                                 "--virtual", "all=standard:100,pypi-remote:10"])
    env = base_env(tmp_path / "home")
    ours, _ = make_wheel(str(tmp_path / "ours"), "demo-pkg", "1.0.0")
    theirs = [make_wheel(str(tmp_path / ("theirs-" + v)), "demo-pkg", v)[0] for v in ("1.0.0", "9.9.9")]
    with open(ours, "ab") as f:
        f.write(b"\0")  # our 1.0.0 differs from theirs, byte for byte
    auth = ["-u", USER, "-p", TOKEN]
    assert twine(["--repository-url", server.url, *auth, ours], env).returncode == 0
    assert twine(["--repository-url", server.url + "pypi/", *auth, *theirs], env).returncode == 0
    # Remote and virtual repositories take no uploads; PyPI's stand-in needs no auth to read.
    refused = twine(["--repository-url", server.url + "all/", *auth, ours], env)
    assert refused.returncode != 0 and "400" in refused.stdout + refused.stderr
    assert get(server.url + "pypi/simple/demo-pkg/")[0] == 200
    assert get(server.url + "pypi-remote/simple/demo-pkg/")[0] == 401
    status, _, page = get(server.url + "all/simple/demo-pkg/", USER, TOKEN)
    assert status == 200
    links = sorted(l.split("#")[0] for l in re.findall(r'href="([^"]+)"', page.decode()))
    assert links == ["/all/packages/demo_pkg-1.0.0-py3-none-any.whl", "/all/packages/pypi-remote/demo_pkg-9.9.9-py3-none-any.whl"]
    status, _, body = get(server.url + "all/packages/demo_pkg-1.0.0-py3-none-any.whl", USER, TOKEN)
    with open(ours, "rb") as f:
        assert (status, body) == (200, f.read())
    assert get(server.url + "all/simple/", USER, TOKEN)[2].count(b"demo-pkg") == 2
    assert get(server.url + "all/simple/nothing/", USER, TOKEN)[0] == 404


def test_a_pin_with_double_equals_takes_a_strangers_equal_version(start_server, tmp_path):
    """PEP 440: ==1.2.0 also matches 1.2.0.0 and 1.2, and pip prefers a build tag or a more specific
    wheel tag among equal versions. The virtual repository chooses its upstream per version string
    (stricter reading, README): our 1.2.0 hides a stranger's 1.2.0, not their 1.2.0.0 or 1.2. So with
    == pip can take a stranger's file; === keeps those out, but not 01.2.0 (pip compares === after
    normalising the candidate, 01.2.0 to 1.2.0); a sha256 pin keeps every one out."""
    server = start_server("pypi_index.py", args=["--token", TOKEN, "--remote", "pypi-remote",
                                                 "--virtual", "all=standard:100,pypi-remote:10"])
    env = base_env(tmp_path / "home")
    auth = ["-u", USER, "-p", TOKEN]
    ours, _ = make_wheel(str(tmp_path / "ours"), "demo-pin", "1.2.0")
    assert twine(["--repository-url", server.url, *auth, ours], env).returncode == 0
    theirs = [make_wheel(str(tmp_path / ("theirs-%d" % i)), "demo-pin", version, **kind)[0] for i, (version, kind) in enumerate([
        ("1.2.0", {"tag": "py311-none-any"}),  # the same version string, better tagged
        ("1.2.0.0", {}),
        ("1.2", {"build": "1"}),
    ])]
    published = twine(["--repository-url", server.url + "pypi/", *auth, *theirs], env)
    assert published.returncode == 0, published.stdout + published.stderr
    index = "http://%s:%s@127.0.0.1:%d/all/simple/" % (USER, TOKEN, server.port)
    page = get(server.url + "all/simple/demo-pin/", USER, TOKEN)[2].decode()
    assert sorted(re.findall(r">([^<]+\.whl)<", page)) == [
        "demo_pin-1.2-1-py3-none-any.whl", "demo_pin-1.2.0-py3-none-any.whl", "demo_pin-1.2.0.0-py3-none-any.whl"]

    def download(*requirement):
        dest = tmp_path / ("dl-%d" % len(list(tmp_path.glob("dl-*"))))
        result = run([SYSTEM_PYTHON, "-m", "pip", "download", "--no-deps", "-d", str(dest), "--index-url", index, *requirement], env)
        assert result.returncode == 0, result.stdout + result.stderr
        return [f.name for f in dest.iterdir()]

    assert download("demo-pin==1.2.0") == ["demo_pin-1.2-1-py3-none-any.whl"]
    assert download("demo-pin===1.2.0") == [os.path.basename(ours)]
    with open(ours, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    pinned = tmp_path / "requirements.txt"
    pinned.write_text("demo-pin==1.2.0 --hash=sha256:%s\n" % digest)
    assert download("-r", str(pinned)) == [os.path.basename(ours)]

    # 01.2.0 is another string for the virtual repository, and 1.2.0 for pip's ===.
    odd, _ = make_wheel(str(tmp_path / "theirs-odd"), "demo-pin", "01.2.0", build="1")
    assert twine(["--repository-url", server.url + "pypi/", *auth, odd], env).returncode == 0
    assert download("demo-pin===1.2.0") == ["demo_pin-01.2.0-1-py3-none-any.whl"]
    assert download("-r", str(pinned)) == [os.path.basename(ours)]
