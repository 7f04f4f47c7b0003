"""The build of a 2nd gen function (Cloud Build running Google's Python buildpack).

Checks made as the build account (cloud.google.com/functions/docs/securing/build-custom-sa),
and, opt-in (--function-builds CREDENTIAL), the install of the function's requirements.

The function's build (opt-in: --function-builds CREDENTIAL). Google builds a Python
function with its Python buildpack, which installs requirements.txt. Modelled here:
which installer the buildpack picks, and whether that installer gets the Artifact
Registry credentials of the build's service account. GoogleCloudPlatform/buildpacks,
pkg/python/requirements.go and python.go: with GOOGLE_PYTHON_PACKAGE_MANAGER unset,
isUVDefaultPackageManagerForRequirements picks uv for Python >= 3.14 and pip below;
the variable, when set, decides. Only the pip path calls ar.GeneratePythonConfig,
which writes a .netrc for the *-python.pkg.dev hosts with the build account's token;
the uv path writes none (buildpacks issue 681). The install itself is pip here in
both cases (no uv on this machine), run as `pip download` of requirements.txt: what
matters is the credential, which only the pip path hands over. Credentials written
into requirements.txt itself (token mode) work on both paths, as with Google.
"""

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import zipfile

import iam
from standin_http import now


def python_installer(build_config):
    chosen = ((build_config or {}).get("environmentVariables") or {}).get("GOOGLE_PYTHON_PACKAGE_MANAGER")
    if chosen:
        return chosen.lower()
    match = re.fullmatch(r"python(\d)(\d+)", (build_config or {}).get("runtime") or "")
    return "uv" if match and (int(match.group(1)), int(match.group(2))) >= (3, 14) else "pip"


def install_requirements(ctx, function):
    """Installs the uploaded source's requirements as the buildpack would; returns an error message or None."""
    credential = ctx.handler.server.function_builds
    build_config = function.get("buildConfig") or {}
    obj = ((build_config.get("source") or {}).get("storageSource") or {}).get("object")
    if credential is None or not obj:
        return None
    zip_path = os.path.join(ctx.handler.server.data_dir, "uploads", obj)
    installer = python_installer(build_config)
    record = {"installer": installer, "credentials": installer == "pip", "downloaded": [], "status": None}
    ctx.extra["functionBuild"] = record
    with tempfile.TemporaryDirectory() as work:
        with zipfile.ZipFile(zip_path) as z:
            if "requirements.txt" not in z.namelist():
                record["status"] = 0
                return None
            z.extract("requirements.txt", work)
        requirements = os.path.join(work, "requirements.txt")
        with open(requirements, encoding="utf-8") as f:
            hosts = sorted({urllib.parse.urlsplit(u).hostname for u in re.findall(r"--(?:extra-)?index-url\s+(\S+)", f.read())} - {None})
        home = os.path.join(work, "home")
        os.makedirs(home)
        if installer == "pip":
            with open(os.path.join(home, ".netrc"), "w", encoding="utf-8") as f:
                for host in hosts:
                    f.write("machine %s login oauth2accesstoken password %s\n" % (host, credential))
        env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "PIP_CONFIG_FILE": os.devnull,
               "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
               "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
        dest = os.path.join(work, "downloaded")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-cache-dir", "--retries", "0", "--timeout", "10",
             "-d", dest, "-r", requirements],
            env=env, capture_output=True, text=True, timeout=120,
        )
        record["status"] = result.returncode
        record["downloaded"] = sorted(os.listdir(dest)) if os.path.isdir(dest) else []
        record["sha256"] = {}
        for name in record["downloaded"]:
            with open(os.path.join(dest, name), "rb") as f:
                record["sha256"][name] = hashlib.sha256(f.read()).hexdigest()
        if result.returncode != 0:
            tail = " ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            record["output"] = tail
            return "installing requirements.txt with %s failed: %s" % (installer, tail)
    return None


def install_failed(ctx, function):
    """After the build's IAM checks: the install of requirements.txt, which fails the build as they do."""
    if function.get("state") == "FAILED":
        return
    error = install_requirements(ctx, function)
    if error:
        function["state"] = "FAILED"
        function["stateMessages"] = [{"severity": "ERROR", "type": "BuildFailed", "message": error}]




def build_function(ctx, function, project, location, function_id):
    """The function's build, which Cloud Build runs as buildConfig.serviceAccount. A
    user-specified build account needs (cloud.google.com/functions/docs/securing/build-custom-sa):
    writing logs, reading the uploaded source from the gcf-v2-sources bucket, and pushing the
    image to gcf-artifacts in the function's region. The stand-in checks exactly these; a
    denied one fails the build (the operation's error), not the call. Reading the private
    Python repository during the build is pip's, checked by pypi_index.py."""
    number = ctx.state.project(project)["projectNumber"]
    account = (function.get("buildConfig") or {}).get("serviceAccount")
    if not account:
        # The project's default build account: projects get it with the roles it needs
        # (or Editor, in older projects); only a user-specified account is checked.
        return
    member = "serviceAccount:%s" % account.rsplit("/", 1)[-1]
    images = "projects/%s/locations/%s/repositories/gcf-artifacts" % (project, location)
    for permission, resource, resource_type in (
        ("logging.logEntries.create", "projects/%s" % project, None),
        ("storage.objects.get", "projects/_/buckets/gcf-v2-sources-%s-%s/objects/%s/function-source.zip" % (number, location, function_id),
         "storage.googleapis.com/Object"),
        ("artifactregistry.repositories.uploadArtifacts", images, "artifactregistry.googleapis.com/Repository"),
    ):
        if not ctx.check(permission, resource, member, resource_type, by="function build"):
            function["state"] = "FAILED"
            function["stateMessages"] = [{"severity": "ERROR", "type": "BuildFailed", "message": iam.denied_message(permission, resource)}]
            return
    function.pop("stateMessages", None)
    # Cloud Functions creates gcf-artifacts on the first build in a region.
    if images not in ctx.state["repositories"]:
        ctx.state["repositories"][images] = {"name": images, "format": "DOCKER", "mode": "STANDARD_REPOSITORY", "createTime": now()}
