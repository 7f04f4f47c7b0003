"""A function's build: where its image goes and who may push it (--docker-repository, gcf-artifacts),
and, with --function-builds, the buildpack's installs (its own functions-framework from PyPI)."""

import json

import pytest
from conftest import call, create_function, upload_source

import iam
import python_buildpack

PROJECT = "build-proj-1"
NUMBER = "700000000004"
REGION = "europe-west1"
OWNER = "user:owner@example.com"
FN_BUILD = "fn-build@%s.iam.gserviceaccount.com" % PROJECT
LOCATION = "projects/%s/locations/%s" % (PROJECT, REGION)
GCF_ARTIFACTS = "%s/repositories/gcf-artifacts" % LOCATION
IMAGES = "%s/repositories/fn-images" % LOCATION
PRIVATE = "%s/repositories/pkgs" % LOCATION
VIRTUAL = "%s/repositories/index" % LOCATION


def build_account_grants(*more):
    """What a user-specified build account needs besides the image push (build-custom-sa)."""
    return [{"role": "roles/owner", "members": [OWNER]},
            {"role": "roles/logging.logWriter", "members": ["serviceAccount:" + FN_BUILD]},
            {"role": "roles/storage.objectViewer", "members": ["serviceAccount:" + FN_BUILD]}, *more]


def seed(tmp_path, project_bindings, **more):
    data = tmp_path / "gcp"
    data.mkdir()
    state = {"projects": {PROJECT: {"projectNumber": NUMBER}},
             "repositories": {IMAGES: {"name": IMAGES, "format": "DOCKER"}, PRIVATE: {"name": PRIVATE, "format": "PYTHON"},
                              "projects/%s/locations/us-east4/repositories/elsewhere" % PROJECT: {"format": "DOCKER"}},
             "iamPolicies": {"projects/%s" % PROJECT: {"bindings": project_bindings},
                             IMAGES: {"bindings": [{"role": "roles/artifactregistry.writer", "members": ["serviceAccount:" + FN_BUILD]}]}}}
    state.update(more)
    (data / "state.json").write_text(json.dumps(state))
    return data


def deploy(gapi, name, requirements=None, **build):
    files = {"main.py": "def handler(request):\n    return 'ok'\n"}
    if requirements is not None:
        files["requirements.txt"] = requirements
    status, op = create_function(gapi, OWNER, PROJECT, REGION, name, upload_source(gapi, files), FN_BUILD, buildConfig=build)
    assert status == 200
    return op.get("error", {}).get("message")


def repositories(data):
    return sorted(json.loads((data / "state.json").read_text())["repositories"])


def test_the_image_goes_to_the_docker_repository_named_and_the_build_pushes_it_as_its_account(start_server, tmp_path):
    data = seed(tmp_path, build_account_grants())
    gapi = start_server("google_apis.py", data)
    # Writer on that one repository is all the push needs; gcf-artifacts is neither made nor used.
    assert deploy(gapi, "named", dockerRepository=IMAGES) is None
    [push] = [c for c in gapi.requests()[-1]["iam"] if c["permission"] == "artifactregistry.repositories.uploadArtifacts"]
    assert push["resource"] == IMAGES and push["grantedBy"] == [[IMAGES, "roles/artifactregistry.writer", ""]]
    assert GCF_ARTIFACTS not in repositories(data)
    assert call(gapi, "GET", "/v1/%s/services/named" % LOCATION, OWNER)[0] == 200  # the service exists once built
    # The repository must exist, hold Docker images, and be in the function's project and region.
    assert deploy(gapi, "absent", dockerRepository="%s/repositories/nope" % LOCATION) == \
        "Build failed: dockerRepository %s/repositories/nope does not exist." % LOCATION
    assert deploy(gapi, "python", dockerRepository=PRIVATE) == "Build failed: dockerRepository %s is a PYTHON repository, not DOCKER." % PRIVATE
    elsewhere = "projects/%s/locations/us-east4/repositories/elsewhere" % PROJECT
    assert "not in the function's project and location" in deploy(gapi, "elsewhere", dockerRepository=elsewhere)


def test_without_one_cloud_functions_makes_gcf_artifacts_and_the_push_needs_a_project_grant(start_server, tmp_path):
    data = seed(tmp_path, build_account_grants())
    gapi = start_server("google_apis.py", data)
    assert GCF_ARTIFACTS not in repositories(data)
    # A grant on gcf-artifacts itself cannot be made before the first deploy: the repository does not exist.
    status, _ = call(gapi, "POST", "/v1/%s:setIamPolicy" % GCF_ARTIFACTS, OWNER,
                     {"policy": {"bindings": [{"role": "roles/artifactregistry.writer", "members": ["serviceAccount:" + FN_BUILD]}]}})
    assert status == 404
    assert deploy(gapi, "first") == "Build failed: %s" % iam.denied_message("artifactregistry.repositories.uploadArtifacts", GCF_ARTIFACTS)
    assert GCF_ARTIFACTS in repositories(data)  # made by Cloud Functions before the push
    # Writer on the project (every repository in it) lets it push.
    status, policy = call(gapi, "POST", "/v1/projects/%s:getIamPolicy" % PROJECT, OWNER, {})
    policy["bindings"].append({"role": "roles/artifactregistry.writer", "members": ["serviceAccount:" + FN_BUILD]})
    assert call(gapi, "POST", "/v1/projects/%s:setIamPolicy" % PROJECT, OWNER, {"policy": policy})[0] == 200
    assert deploy(gapi, "second") is None


def test_the_buildpack_reads_what_its_requirements_name(tmp_path):
    """python_buildpack.py against the lines of the buildpack it cites."""
    listed = python_buildpack.lists_functions_framework
    assert listed("functions-framework==3.10.2\n") and listed("--index-url X\nfunctions-framework\n")
    assert listed("git+https://example.com/ff.git#egg=functions-framework\n")
    # Case-sensitive, at the start of a line, not a longer name: the buildpack adds its own then.
    assert not listed("functions_framework==3.10.2\n") and not listed("Functions-Framework==3.10.2\n")
    assert not listed("functions-framework-extra==1\n") and not listed("  functions-framework\n") and not listed(None)
    text = python_buildpack.converter_requirements_text()
    assert "functions-framework==3.10.2\n" in text and "starlette==1.3.1; python_version >= '3.10'\n" in text
    assert ("functions-framework", python_buildpack.FUNCTIONS_FRAMEWORK_ON_PYPI) in python_buildpack.public_wheels()
    assert python_buildpack.python_installer({"runtime": "python313"}) == "pip"
    assert python_buildpack.python_installer({"runtime": "python314"}) == "uv"
    assert python_buildpack.python_installer({"runtime": "python314", "environmentVariables": {"GOOGLE_PYTHON_PACKAGE_MANAGER": "pip"}}) == "pip"
    assert python_buildpack.python_installer({"runtime": "python312", "environmentVariables": {"GOOGLE_PYTHON_PACKAGE_MANAGER": "uv"}}) == "uv"


@pytest.fixture
def builds(start_server, tmp_path):
    """The Google stand-in with function builds, and the index layout (private, PyPI remote, virtual)
    whose PyPI it finds through pypi_index.py's announcement; the build account reads the virtual one."""
    data = seed(tmp_path, build_account_grants(), iamPolicies=None)
    state = json.loads((data / "state.json").read_text())
    state["iamPolicies"] = {"projects/%s" % PROJECT: {"bindings": build_account_grants()},
                            IMAGES: {"bindings": [{"role": "roles/artifactregistry.writer", "members": ["serviceAccount:" + FN_BUILD]}]},
                            VIRTUAL: {"bindings": [{"role": "roles/artifactregistry.reader", "members": ["serviceAccount:" + FN_BUILD]}]}}
    (data / "state.json").write_text(json.dumps(state))
    gapi = start_server("google_apis.py", data, ["--function-builds", iam.token_for("serviceAccount:" + FN_BUILD)])
    index = start_server("pypi_index.py", tmp_path / "index", ["--iam-state", str(data / "state.json"), "--repository", PRIVATE,
                                                                "--remote", "pypi-remote", "--virtual", "index=standard:100,pypi-remote:10"])
    return gapi, index


def test_without_functions_framework_listed_the_buildpack_installs_its_own_from_pypi(builds):
    gapi, index = builds
    pypi = (gapi.data_dir + "/pypi-url", "http://localhost:%d/pypi/simple/" % index.port)
    assert open(pypi[0]).read().strip() == pypi[1]
    requirements = "--index-url %sindex/simple/\nidna==3.15\n" % index.url
    assert deploy(gapi, "injected", requirements, dockerRepository=IMAGES) is None
    build = gapi.requests()[-1]["functionBuild"]
    first, second = build["installs"]
    # First, separately, the buildpack's pinned set, from PyPI: the function's --index-url is not read.
    assert first["requirements"] == "functions-framework (the buildpack's converter/requirements.txt)"
    assert first["indexes"] == [pypi[1]] and first["status"] == 0
    pins = {"%s-%s" % (name.replace("-", "_"), version) for name, version, marker in python_buildpack.CONVERTER_REQUIREMENTS
            if marker is None or marker == "python_version >= '3.10'"}
    assert {f.rsplit("-", 3)[0] for f in first["downloaded"]} == pins
    # Then requirements.txt, from the one index it names.
    assert second == dict(second, requirements="requirements.txt", indexes=["%sindex/simple/" % index.url],
                          downloaded=["idna-3.15-py3-none-any.whl"], status=0)
    assert build["status"] == 0 and build["image"] == IMAGES
    # PyPI saw the buildpack's install without credentials; the index saw the build account.
    reads = [(r["path"].split("/")[1], r.get("identity")) for r in index.requests()]
    assert ("pypi", None) in reads and ("index", "serviceAccount:" + FN_BUILD) in reads
    assert {who for where, who in reads if where == "pypi"} == {None}


def test_with_functions_framework_listed_one_install_reads_the_one_index(builds):
    gapi, index = builds
    before = len(index.requests())
    requirements = "--index-url %sindex/simple/\nfunctions-framework==3.10.2\n" % index.url
    assert deploy(gapi, "listed", requirements, dockerRepository=IMAGES) is None
    [only] = gapi.requests()[-1]["functionBuild"]["installs"]
    assert only["requirements"] == "requirements.txt" and only["indexes"] == ["%sindex/simple/" % index.url]
    assert only["downloaded"] == ["functions_framework-3.10.2-py3-none-any.whl"]
    assert {r["path"].split("/")[1] for r in index.requests()[before:]} == {"index"}
