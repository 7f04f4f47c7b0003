"""The build of a 2nd gen function: Cloud Build running Google's Python buildpack, as the build account.

Claims:
- A user-specified build account needs to write logs (logging.logEntries.create), to read the
  uploaded source in gcf-v2-sources-NUMBER-REGION (storage.objects.get) and to push the image
  (artifactregistry.repositories.uploadArtifacts) to the function's image repository
  (cloud.google.com/functions/docs/securing/build-custom-sa: for the default behaviour access to
  gcf-artifacts, "or provide your own artifact repository" through dockerRepository). Each is
  checked as that account; a denial fails the operation ("Build failed: ..."), not the call.
  The project's default build account is not checked (it gets its roles with the project).
- The image repository is buildConfig.dockerRepository (gcloud functions deploy
  --docker-repository, which gcloud sends as projects/P/locations/L/repositories/R:
  api_lib/functions/cmek_util.py NormalizeDockerRepositoryFormat). It must exist, be a DOCKER
  repository, in the function's project and region (Cloud Functions v2 API reference,
  BuildConfig.docker_repository: "Cross-project repositories are not supported. Cross-location
  repositories are not supported. Repository format must be 'DOCKER'."; gcloud functions deploy
  --help: "present in the same project and location"; its Preview for others is not modelled).
  Unset: gcf-artifacts in the function's region, which Cloud Functions creates when missing (the
  same reference: "If unspecified, GCF will create and use a repository named 'gcf-artifacts' for
  every deployed region"), so on a first deploy its own policy is empty and the push can only be
  granted on the project. Who creates it is not documented beyond "GCF"; the stand-in checks no
  one for it (the Cloud Functions service agent's role holds artifactregistry.repositories.create).
- The push comes last: the dependencies are installed first (buildpacks run before the image is
  exported).
- Opt-in (--function-builds CREDENTIAL), the install of the dependencies as the buildpack does it
  (python_buildpack.py has the sources): the installer (pip, or uv from Python 3.14); the
  buildpack's own functions-framework requirements when requirements.txt does not list
  functions-framework, installed first and separately from PyPI (pip's default index), then
  requirements.txt; only the pip path writes a .netrc with the build account's token for the
  index hosts (ar.GeneratePythonConfig; the uv path writes none, buildpacks issue 681). The
  install here is `pip download` in both cases (no uv on this machine): what matters is which
  index each install reads and which credential it gets. Credentials written into
  requirements.txt itself (token mode) work on both paths, as with Google.
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
import python_buildpack
from standin_http import now

DOCKER_REPOSITORY = re.compile(r"projects/([^/]+)/locations/([^/]+)/repositories/([^/]+)")


def fail(function, message):
    function["state"] = "FAILED"
    function["stateMessages"] = [{"severity": "ERROR", "type": "BuildFailed", "message": message}]


def image_repository(ctx, function, project, location):
    """(repository name, error): where the build pushes the function's image."""
    default = "projects/%s/locations/%s/repositories/gcf-artifacts" % (project, location)
    name = (function.get("buildConfig") or {}).get("dockerRepository") or default
    if name == default:
        return name, None
    m = DOCKER_REPOSITORY.fullmatch(name)
    if not m:
        return name, "dockerRepository %s is not of the form projects/PROJECT/locations/LOCATION/repositories/REPOSITORY." % name
    if (m.group(1), m.group(2)) != (project, location):
        return name, ("dockerRepository %s is not in the function's project and location (%s, %s)."
                      % (name, project, location))
    repository = ctx.state["repositories"].get(name)
    if repository is None:
        return name, "dockerRepository %s does not exist." % name
    if repository.get("format") != "DOCKER":
        return name, "dockerRepository %s is a %s repository, not DOCKER." % (name, repository.get("format"))
    return name, None


def build_function(ctx, function, project, location, function_id):
    """The function's build: sets state FAILED with the reason, or leaves it ACTIVE."""
    number = ctx.state.project(project)["projectNumber"]
    account = (function.get("buildConfig") or {}).get("serviceAccount")
    member = "serviceAccount:%s" % account.rsplit("/", 1)[-1] if account else None
    images, error = image_repository(ctx, function, project, location)
    if error:
        return fail(function, error)
    source = "projects/_/buckets/gcf-v2-sources-%s-%s/objects/%s/function-source.zip" % (number, location, function_id)
    for permission, resource in (("logging.logEntries.create", "projects/%s" % project), ("storage.objects.get", source)):
        if member and not ctx.check(permission, resource, member, by="function build"):
            return fail(function, iam.denied_message(permission, resource))
    error = install_dependencies(ctx, function)
    if error:
        return fail(function, error)
    if images not in ctx.state["repositories"]:
        # Cloud Functions creates gcf-artifacts (never a repository the user named) before the push.
        ctx.state["repositories"][images] = {"name": images, "format": "DOCKER", "mode": "STANDARD_REPOSITORY", "createTime": now()}
    if member and not ctx.check("artifactregistry.repositories.uploadArtifacts", images, member, by="function build"):
        return fail(function, iam.denied_message("artifactregistry.repositories.uploadArtifacts", images))
    function.pop("stateMessages", None)
    ctx.extra.setdefault("functionBuild", {})["image"] = images
    return None


def pypi_url(server):
    """The stand-in PyPI's index URL: --pypi-url, else the one pypi_index.py announced in DIR/pypi-url."""
    if server.pypi_url:
        return server.pypi_url
    announced = os.path.join(server.data_dir, "pypi-url")
    if os.path.exists(announced):
        with open(announced, encoding="utf-8") as f:
            return f.read().strip()
    return None


def download(requirements, pypi, home, dest):
    """pip download of one requirements file (as the buildpack installs each file on its own), with
    the stand-in PyPI as pip's default index (an --index-url line in the file replaces it)."""
    env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "PIP_CONFIG_FILE": os.devnull,
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    command = [sys.executable, "-m", "pip", "download", "--no-cache-dir", "--retries", "0", "--timeout", "10",
               "-d", dest, "-r", requirements] + (["--index-url", pypi] if pypi else [])
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    downloaded = sorted(os.listdir(dest)) if os.path.isdir(dest) else []
    sha256 = {}
    for name in downloaded:
        with open(os.path.join(dest, name), "rb") as f:
            sha256[name] = hashlib.sha256(f.read()).hexdigest()
    return result, downloaded, sha256


def indexes_read(text, pypi):
    """The indexes pip reads for a requirements file: its --index-url, or the default (PyPI), then its --extra-index-url lines."""
    own = re.findall(r"^\s*--index-url[=\s]\s*(\S+)", text, re.M)
    extra = re.findall(r"^\s*--extra-index-url[=\s]\s*(\S+)", text, re.M)
    return own[-1:] + extra if own else [pypi or "PyPI (unknown to the stand-in)"] + extra


def install_dependencies(ctx, function):
    """Installs the uploaded source's dependencies as the buildpack would; returns an error message or None.

    Records functionBuild: {installer, credentials, installs: [{requirements, indexes, downloaded,
    sha256, status, output?}], downloaded, sha256, status} in the request's log record."""
    server = ctx.handler.server
    credential = server.function_builds
    build_config = function.get("buildConfig") or {}
    obj = ((build_config.get("source") or {}).get("storageSource") or {}).get("object")
    if credential is None or not obj:
        return None
    installer = python_buildpack.python_installer(build_config)
    record = {"installer": installer, "credentials": installer == "pip", "installs": [], "downloaded": [], "sha256": {}, "status": None}
    ctx.extra["functionBuild"] = record
    with tempfile.TemporaryDirectory() as work:
        with zipfile.ZipFile(os.path.join(server.data_dir, "uploads", obj)) as z:
            text = z.read("requirements.txt").decode("utf-8") if "requirements.txt" in z.namelist() else None
        pypi = pypi_url(server)
        files = []  # (what, path, its text)
        if not python_buildpack.lists_functions_framework(text):
            converter = os.path.join(work, "converter-requirements.txt")
            files.append(("functions-framework (the buildpack's converter/requirements.txt)", converter,
                          python_buildpack.converter_requirements_text()))
        if text is not None:
            files.append(("requirements.txt", os.path.join(work, "requirements.txt"), text))
        hosts = sorted({urllib.parse.urlsplit(u).hostname for u in re.findall(r"--(?:extra-)?index-url[=\s]\s*(\S+)", text or "")} - {None})
        home = os.path.join(work, "home")
        os.makedirs(home)
        if installer == "pip":
            # ar.GeneratePythonConfig writes it once, before the first install.
            with open(os.path.join(home, ".netrc"), "w", encoding="utf-8") as f:
                for host in hosts:
                    f.write("machine %s login oauth2accesstoken password %s\n" % (host, credential))
        for number, (what, path, content) in enumerate(files):
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
            install = {"requirements": what, "indexes": indexes_read(content, pypi), "downloaded": [], "sha256": {}, "status": None}
            record["installs"].append(install)
            result, downloaded, sha256 = download(path, pypi, home, os.path.join(work, "downloaded-%d" % number))
            install.update(status=result.returncode, downloaded=downloaded, sha256=sha256)
            record["downloaded"] = sorted(set(record["downloaded"]) | set(downloaded))
            record["sha256"].update(sha256)
            if result.returncode != 0:
                install["output"] = record["output"] = " ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
                record["status"] = result.returncode
                return "installing %s with %s failed: %s" % (what, installer, install["output"])
        record["status"] = 0
    return None
