"""google_apis.py against the real gcloud of this machine."""

import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import HERE

import gcloud_env
import iam

GCLOUD = shutil.which("gcloud")
pytestmark = pytest.mark.skipif(GCLOUD is None, reason="gcloud is not installed")

PROJECT = "demo-project"
REGION = "us-central1"


@pytest.fixture
def gapi(start_server):
    return start_server("google_apis.py")


def gcloud(server, workdir, *args, project=PROJECT, check=True):
    """Runs the real gcloud against `server`, with CLOUDSDK_CONFIG in workdir.

    gcloud runs that overlap in time get different workdirs.
    """
    config = workdir / "gcloud-config"
    config.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSDK_")}
    env.update(gcloud_env.gcloud_env(server.port, project, str(config)))
    result = subprocess.run([GCLOUD, *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, "gcloud %s failed:\n%s%s" % (" ".join(args), result.stdout, result.stderr)
    return result


def rpcs(records):
    return [(r["rpc"], r["status"]) for r in records]


def changing(records):
    """Requests that changed state: what a no-op run must not contain."""
    return [r for r in records if r["changed"]]


def test_unknown_route_is_a_logged_404(gapi):
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(gapi.url + "v9/nowhere?x=1", timeout=10)
    assert raised.value.code == 404
    error = json.loads(raised.value.read())["error"]
    assert error["status"] == "NOT_FOUND" and "v9/nowhere" in error["message"]
    record = gapi.requests()[-1]
    assert record["rpc"] is None and record["path"] == "/v9/nowhere" and record["query"] == {"x": "1"}
    gapi.stop()
    assert "UNHANDLED GET /v9/nowhere?x=1" in open(os.path.join(gapi.data_dir, "server.stderr")).read()


def test_gcloud_env_cli_prints_exports(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(HERE, "gcloud_env.py"), "--port", "4242", "--project", "x",
                          "--config-dir", str(tmp_path / "a")], capture_output=True, text=True, check=True).stdout
    assert "export CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDFUNCTIONS=http://127.0.0.1:4242/" in out
    assert "export CLOUDSDK_CORE_PROJECT=x" in out
    assert "export CLOUDSDK_AUTH_ACCESS_TOKEN_FILE=%s" % (tmp_path / "a" / "access-token") in out
    assert (tmp_path / "a" / "access-token").read_text() == "ya29.loopback/user:owner@example.com/token\n"
    assert len([line for line in out.splitlines() if "ENDPOINT_OVERRIDES" in line]) == len(gcloud_env.APIS)
    as_json = json.loads(subprocess.run([sys.executable, os.path.join(HERE, "gcloud_env.py"), "--port", "4242", "--json",
                                         "--config-dir", str(tmp_path / "b"), "--identity", "serviceAccount:b@x.iam.gserviceaccount.com"],
                                        capture_output=True, text=True, check=True).stdout)
    assert as_json == gcloud_env.gcloud_env(4242, "p", str(tmp_path / "b"), "serviceAccount:b@x.iam.gserviceaccount.com")


TRIGGER = """\
name: publish-package
description: Publish the package
filename: cloudbuild.yaml
github:
  owner: acme
  name: monorepo
  push:
    branch: ^main$
includedFiles: ["package/**"]
substitutions:
  _REGION: us-east4
serviceAccount: projects/%s/serviceAccounts/builder@%s.iam.gserviceaccount.com
""" % (PROJECT, PROJECT)


def test_builds_triggers_import_list_describe(gapi, tmp_path):
    source = tmp_path / "trigger.yaml"
    source.write_text(TRIGGER)

    gcloud(gapi, tmp_path, "builds", "triggers", "import", "--source=%s" % source)
    first = gapi.requests()
    assert rpcs(first) == [("triggers.patch", 404), ("triggers.create", 200)]
    assert first[0]["path"] == "/v1/projects/%s/locations/global/triggers/publish-package" % PROJECT
    assert first[0]["query"]["triggerId"] == "publish-package"
    body = first[1]["body"]
    assert body["name"] == "publish-package" and body["substitutions"] == {"_REGION": "us-east4"}
    assert body["github"]["push"] == {"branch": "^main$"} and body["includedFiles"] == ["package/**"]

    # Importing the same file again updates in place and changes nothing.
    gcloud(gapi, tmp_path, "builds", "triggers", "import", "--source=%s" % source)
    again = gapi.requests()[len(first):]
    assert rpcs(again) == [("triggers.patch", 200)] and not changing(again)

    # An edited file is a real change; --region goes to that location.
    source.write_text(TRIGGER.replace("Publish the package", "Publish it"))
    n = len(gapi.requests())
    gcloud(gapi, tmp_path, "builds", "triggers", "import", "--source=%s" % source)
    gcloud(gapi, tmp_path, "builds", "triggers", "import", "--source=%s" % source, "--region=%s" % REGION)
    edited = gapi.requests()[n:]
    assert rpcs(edited) == [("triggers.patch", 200), ("triggers.patch", 404), ("triggers.create", 200)]
    assert [r["changed"] for r in edited] == [True, False, True]
    assert edited[2]["path"] == "/v1/projects/%s/locations/%s/triggers" % (PROJECT, REGION)

    listed = gcloud(gapi, tmp_path, "builds", "triggers", "list", "--format=json").stdout
    assert [t["description"] for t in json.loads(listed)] == ["Publish it"]
    described = json.loads(gcloud(gapi, tmp_path, "builds", "triggers", "describe", "publish-package",
                                  "--region=%s" % REGION, "--format=json").stdout)
    assert described["resourceName"] == "projects/%s/locations/%s/triggers/publish-package" % (PROJECT, REGION)
    assert described["id"]


@pytest.fixture
def function_source(tmp_path):
    source = tmp_path / "fn"
    source.mkdir()
    (source / "main.py").write_text("def handler(request):\n    return 'ok'\n")
    (source / "requirements.txt").write_text("functions-framework==3.*\n")
    return source


def deploy_args(name, source, *extra):
    return ["functions", "deploy", name, "--gen2", "--region=%s" % REGION, "--runtime=python312",
            "--source=%s" % source, "--entry-point=handler", "--quiet", *extra]


def test_functions_deploy_http_then_redeploy(gapi, tmp_path, function_source):
    gcloud(gapi, tmp_path, *deploy_args("hello", function_source, "--trigger-http", "--no-allow-unauthenticated"))
    first = gapi.requests()
    calls = [r["rpc"] for r in first]
    assert calls[:4] == ["functions.get", "runtimes.list", "functions.generateUploadUrl", "upload.put"]
    assert first[0]["status"] == 404
    assert {"services.get", "functions.create", "operations.get"} <= set(calls)
    assert not [c for c in calls if c.endswith("setIamPolicy")]
    usage = [r["path"].rsplit("/", 1)[-1] for r in first if r["rpc"] == "services.get"]
    assert usage == ["run.googleapis.com", "cloudbuild.googleapis.com", "artifactregistry.googleapis.com"]

    upload = next(r for r in first if r["rpc"] == "upload.put")
    assert upload["upload"]["zipMembers"] == ["main.py", "requirements.txt"] and upload["upload"]["size"] > 0
    stored = os.listdir(os.path.join(gapi.data_dir, "uploads"))
    assert stored == [upload["path"].rsplit("/", 1)[-1]]

    create = next(r for r in first if r["rpc"] == "functions.create")
    assert create["path"] == "/v2/projects/%s/locations/%s/functions" % (PROJECT, REGION)
    assert create["query"]["functionId"] == "hello"
    body = create["body"]
    assert body["name"] == "projects/%s/locations/%s/functions/hello" % (PROJECT, REGION)
    assert body["buildConfig"]["runtime"] == "python312" and body["buildConfig"]["entryPoint"] == "handler"
    assert body["buildConfig"]["source"]["storageSource"]["object"] == stored[0]
    assert "eventTrigger" not in body

    # Redeploy: a patch with an update mask, then the Cloud Run invoker binding; the image goes to a
    # Docker repository of the function's project and region (--docker-repository).
    images = "projects/%s/locations/%s/repositories/fn-images" % (PROJECT, REGION)
    status, _ = get_json(gapi.url + "v1/projects/%s/locations/%s/repositories?repositoryId=fn-images" % (PROJECT, REGION),
                         body={"format": "DOCKER"})
    assert status == 200
    n = len(gapi.requests())
    gcloud(gapi, tmp_path, *deploy_args("hello", function_source, "--trigger-http", "--allow-unauthenticated",
                                         "--memory=256Mi", "--timeout=60s", "--docker-repository=%s" % images,
                                         "--service-account=runner@%s.iam.gserviceaccount.com" % PROJECT))
    second = gapi.requests()[n:]
    patch = next(r for r in second if r["rpc"] == "functions.patch")
    mask = patch["query"]["updateMask"].split(",")
    assert {"service_config.available_memory", "service_config.timeout_seconds",
            "service_config.service_account_email", "build_config.source", "build_config.docker_repository"} <= set(mask)
    assert patch["body"]["buildConfig"]["dockerRepository"] == images
    assert [r["rpc"] for r in second if r["rpc"].startswith("repositories.")] == []  # gcloud does not look the repository up
    service = patch["body"]["serviceConfig"]
    assert service["availableMemory"] == "256Mi" and service["timeoutSeconds"] == 60
    assert service["serviceAccountEmail"] == "runner@%s.iam.gserviceaccount.com" % PROJECT
    set_iam = next(r for r in second if r["rpc"] == "services.setIamPolicy")
    assert set_iam["path"] == "/v1/projects/%s/locations/%s/services/hello:setIamPolicy" % (PROJECT, REGION)
    assert {"role": "roles/run.invoker", "members": ["allUsers"]} in set_iam["body"]["policy"]["bindings"]
    assert set_iam["changed"]

    stored = json.load(open(os.path.join(gapi.data_dir, "state.json")))["functions"]
    function = stored["projects/%s/locations/%s/functions/hello" % (PROJECT, REGION)]
    assert function["serviceConfig"]["availableMemory"] == "256Mi" and function["state"] == "ACTIVE"
    assert function["buildConfig"]["dockerRepository"] == images

    # The invoker commands read and write the service's own policy (two functions.get, then Cloud Run
    # v1 getIamPolicy and setIamPolicy), and the service's policy decides who may call it.
    invoke = gapi.url + "invoke/projects/%s/locations/%s/services/hello" % (PROJECT, REGION)
    caller = "serviceAccount:caller@%s.iam.gserviceaccount.com" % PROJECT
    assert get_json(invoke, None)[0] == 200  # public
    n = len(gapi.requests())
    gcloud(gapi, tmp_path, "functions", "add-invoker-policy-binding", "hello", "--region=%s" % REGION, "--member=%s" % caller)
    gcloud(gapi, tmp_path, "functions", "remove-invoker-policy-binding", "hello", "--region=%s" % REGION, "--member=allUsers")
    calls = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in gapi.requests()[n:]]
    assert calls == [("GET", "hello"), ("GET", "hello"), ("GET", "hello:getIamPolicy"), ("POST", "hello:setIamPolicy")] * 2
    assert get_json(invoke, None)[0] == 403  # private again
    assert get_json(invoke, caller)[0] == 200


def test_functions_deploy_event_triggers(start_server, tmp_path, function_source):
    data = tmp_path / "seeded"
    data.mkdir()
    (data / "state.json").write_text(json.dumps({"buckets": {"uploads-bucket": {"location": "US-CENTRAL1"}},
                                                 "topics": {"projects/%s/topics/jobs" % PROJECT: {"name": "projects/%s/topics/jobs" % PROJECT}}}))
    gapi = start_server("google_apis.py", data_dir=data)

    runs = [
        ("on-topic", ["--trigger-topic=jobs"]),
        ("on-bucket", ["--trigger-bucket=uploads-bucket", "--service-account=runner@%s.iam.gserviceaccount.com" % PROJECT]),
        ("on-missing-bucket", ["--trigger-bucket=gs://no-such-bucket"]),
    ]
    def deploy(run):
        name, flags = run
        return gcloud(gapi, tmp_path / name, *deploy_args(name, function_source, *flags), check=False)

    with ThreadPoolExecutor(len(runs)) as pool:
        results = list(pool.map(deploy, runs))
    assert results[0].returncode == 0, results[0].stderr
    assert results[1].returncode == 0, results[1].stderr
    assert results[2].returncode != 0 and "no-such-bucket" in results[2].stderr

    creates = {r["query"]["functionId"]: r for r in gapi.requests() if r["rpc"] == "functions.create"}
    topic = creates["on-topic"]["body"]["eventTrigger"]
    assert topic == {"eventType": "google.cloud.pubsub.topic.v1.messagePublished",
                     "pubsubTopic": "projects/%s/topics/jobs" % PROJECT}
    bucket = creates["on-bucket"]["body"]["eventTrigger"]
    assert bucket["eventType"] == "google.cloud.storage.object.v1.finalized"
    assert bucket["eventFilters"] == [{"attribute": "bucket", "value": "uploads-bucket"}]
    assert bucket["serviceAccountEmail"] == "runner@%s.iam.gserviceaccount.com" % PROJECT
    assert creates["on-missing-bucket"]["status"] == 400
    # For a Pub/Sub trigger gcloud checks the Pub/Sub agent's role in the project policy.
    assert any(r["rpc"] == "projects.getIamPolicy" for r in gapi.requests())
    state = json.load(open(data / "state.json"))
    assert sorted(state["functions"]) == ["projects/%s/locations/%s/functions/on-bucket" % (PROJECT, REGION),
                                          "projects/%s/locations/%s/functions/on-topic" % (PROJECT, REGION)]


SA_NAME = "publisher"
SA_EMAIL = "%s@%s.iam.gserviceaccount.com" % (SA_NAME, PROJECT)
BUILDER = "serviceAccount:builder@%s.iam.gserviceaccount.com" % PROJECT


def setup_run(gapi, tmp_path):
    """What a setup script does: describe-or-create, then idempotent bindings.

    Two independent lanes run side by side (each with its own CLOUDSDK_CONFIG)
    to halve the wall time. Returns the project number and bucket gcloud printed.
    """
    out = {}

    def ensure(workdir, describe, create):
        if gcloud(gapi, workdir, *describe, check=False).returncode != 0:
            gcloud(gapi, workdir, *create)

    def lane_a():
        work = tmp_path / "lane-a"
        gcloud(gapi, work, "services", "enable", "artifactregistry.googleapis.com", "cloudbuild.googleapis.com",
               "cloudfunctions.googleapis.com")
        ensure(work, ["artifacts", "repositories", "describe", "pkgs", "--location=us-east4"],
               ["artifacts", "repositories", "create", "pkgs", "--repository-format=python", "--location=us-east4"])
        gcloud(gapi, work, "artifacts", "repositories", "add-iam-policy-binding", "pkgs", "--location=us-east4",
               "--member=serviceAccount:%s" % SA_EMAIL, "--role=roles/artifactregistry.writer")
        out["number"] = gcloud(gapi, work, "projects", "describe", PROJECT, "--format=value(projectNumber)").stdout.strip()

    def lane_b():
        work = tmp_path / "lane-b"
        ensure(work, ["iam", "service-accounts", "describe", SA_EMAIL],
               ["iam", "service-accounts", "create", SA_NAME, "--display-name=Package publisher"])
        gcloud(gapi, work, "iam", "service-accounts", "add-iam-policy-binding", SA_EMAIL,
               "--member=%s" % BUILDER, "--role=roles/iam.serviceAccountUser")
        gcloud(gapi, work, "projects", "add-iam-policy-binding", PROJECT, "--member=serviceAccount:%s" % SA_EMAIL,
               "--role=roles/logging.logWriter", "--condition=None")
        ensure(work, ["pubsub", "topics", "describe", "jobs"], ["pubsub", "topics", "create", "jobs"])
        out["bucket"] = json.loads(gcloud(gapi, work, "storage", "buckets", "describe", "gs://artifacts-bucket",
                                          "--format=json").stdout)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(lane_a), pool.submit(lane_b)]:
            future.result()
    return out


def get_json(url, member="user:owner@example.com", body=None):
    """GET URL (POST with a JSON BODY) as MEMBER (no token for None): (status, JSON)."""
    headers = {"Authorization": "Bearer " + iam.token_for(member)} if member else {}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, headers=headers, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_setup_commands_are_state_aware_and_a_rerun_changes_nothing(start_server, tmp_path):
    data = tmp_path / "gcp"
    data.mkdir()
    (data / "state.json").write_text(json.dumps({"buckets": {"artifacts-bucket": {"location": "US-EAST4"}},
                                                 "projects": {PROJECT: {"projectNumber": "555000111222"}}}))
    first_server = start_server("google_apis.py", data_dir=data)
    out = setup_run(first_server, tmp_path)
    assert out["number"] == "555000111222"
    assert out["bucket"]["name"] == "artifacts-bucket" and out["bucket"]["location"] == "US-EAST4"

    first = first_server.requests()
    created = sorted(r["rpc"] for r in first if r["rpc"].endswith(".create"))
    assert created == ["repositories.create", "serviceAccounts.create", "topics.create"]
    assert sorted(r["rpc"] for r in changing(first)) == sorted(
        created + ["services.batchEnable", "repositories.setIamPolicy", "serviceAccounts.setIamPolicy", "projects.setIamPolicy"])
    misses = [r for r in first if r["status"] == 404]
    assert sorted(r["rpc"] for r in misses) == ["repositories.get", "serviceAccounts.get", "topics.get"]
    enable = next(r for r in first if r["rpc"] == "services.batchEnable")
    assert enable["body"] == {"serviceIds": ["artifactregistry.googleapis.com", "cloudbuild.googleapis.com",
                                             "cloudfunctions.googleapis.com"]}
    repo_create = next(r for r in first if r["rpc"] == "repositories.create")
    assert repo_create["query"]["repositoryId"] == "pkgs" and repo_create["body"]["format"] == "PYTHON"
    sa_create = next(r for r in first if r["rpc"] == "serviceAccounts.create")
    assert sa_create["body"] == {"accountId": SA_NAME, "serviceAccount": {"displayName": "Package publisher"}}

    # A restart keeps the state; the same run again creates and changes nothing.
    assert first_server.stop()[0] == 0
    gapi = start_server("google_apis.py", data_dir=data)
    setup_run(gapi, tmp_path)
    second = gapi.requests()[len(first):]
    assert not changing(second), changing(second)
    assert not [r for r in second if r["rpc"].endswith(".create") or r["status"] >= 400]
    # gcloud's add-iam-policy-binding always sends setIamPolicy; a no-op keeps the etag.
    sets = [r for r in second if r["rpc"].endswith("setIamPolicy")]
    assert len(sets) == 3 and all(r["mutating"] and not r["changed"] for r in sets)

    # gcloud reads back what the first run made.
    reads = [
        ("services", "list", "--enabled"),
        ("projects", "get-iam-policy", PROJECT),
        ("artifacts", "repositories", "get-iam-policy", "pkgs", "--location=us-east4"),
    ]
    with ThreadPoolExecutor(2) as pool:
        services, policy, repo_policy = pool.map(
            lambda i: json.loads(gcloud(gapi, tmp_path / ("read-%d" % i), *reads[i], "--format=json").stdout),
            range(len(reads)))
    assert sorted(s["config"]["name"] for s in services) == ["artifactregistry.googleapis.com",
                                                           "cloudbuild.googleapis.com", "cloudfunctions.googleapis.com"]
    assert {"role": "roles/logging.logWriter", "members": ["serviceAccount:%s" % SA_EMAIL]} in policy["bindings"]
    assert repo_policy["bindings"] == [{"role": "roles/artifactregistry.writer", "members": ["serviceAccount:%s" % SA_EMAIL]}]

    # Absent things are 404s with a Google error body.
    for path in ("storage/v1/b/absent-bucket", "v1/projects/%s/topics/absent" % PROJECT,
                 "v1/projects/-/serviceAccounts/absent@%s.iam.gserviceaccount.com" % PROJECT,
                 "v1/projects/%s/locations/us-east4/repositories/absent" % PROJECT):
        status, body = get_json(gapi.url + path)
        assert status == 404 and body["error"]["code"] == 404 and body["error"]["message"], path

    # The first run's real change bumped the project policy's etag; the rerun kept it.
    etags = json.load(open(data / "state.json"))["iamPolicies"]
    assert policy["etag"] == etags["projects/%s" % PROJECT]["etag"] != "ACAB"
