"""IAM in the stand-ins: who calls, 403 in Google's shape, bindings on the resource or
its project, conditions, actAs, impersonation, and the Python index's own check."""

import base64
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from conftest import call

import gcloud_env
import iam

PROJECT = "iam-proj-1"
NUMBER = "700000000001"
OWNER = "user:owner@example.com"
ALICE = "user:alice@example.com"
BUILDER = "builder@%s.iam.gserviceaccount.com" % PROJECT
RUNNER = "runner@%s.iam.gserviceaccount.com" % PROJECT
REPO = "projects/%s/locations/us-east4/repositories/pkgs" % PROJECT
GCLOUD = shutil.which("gcloud")


def account(email):
    return {"name": "projects/%s/serviceAccounts/%s" % (PROJECT, email), "email": email, "projectId": PROJECT, "uniqueId": "1%d" % len(email)}


def seed(tmp_path, policies=None, **more):
    data = tmp_path / "gcp"
    data.mkdir(exist_ok=True)
    state = {
        "projects": {PROJECT: {"projectNumber": NUMBER}},
        "serviceAccounts": {e: account(e) for e in (BUILDER, RUNNER)},
        "repositories": {REPO: {"name": REPO, "format": "PYTHON"}},
        "iamPolicies": dict({"projects/%s" % PROJECT: {"bindings": [{"role": "roles/owner", "members": [OWNER]}]}}, **(policies or {})),
    }
    state.update(more)
    (data / "state.json").write_text(json.dumps(state))
    return data


def test_no_token_is_401_and_an_unbound_caller_403_in_googles_shape(start_server, tmp_path):
    gapi = start_server("google_apis.py", seed(tmp_path))
    status, body = call(gapi, "GET", "/v1/projects/%s/topics" % PROJECT)
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
    status, body = call(gapi, "PUT", "/v1/projects/%s/topics/orders" % PROJECT, ALICE, {})
    assert status == 403
    resource = "projects/%s/topics/orders" % PROJECT
    assert body == {"error": {
        "code": 403,
        "message": "Permission 'pubsub.topics.create' denied on resource '//pubsub.googleapis.com/%s' (or it may not exist)." % resource,
        "status": "PERMISSION_DENIED",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
                     "domain": "pubsub.googleapis.com", "metadata": {"permission": "pubsub.topics.create", "resource": resource}}],
    }}
    record = gapi.requests()[-1]
    assert record["identity"] == ALICE and record["changed"] is False
    assert record["iam"] == [{"member": ALICE, "permission": "pubsub.topics.create", "resource": resource, "grantedBy": []}]
    # Permission is checked before existence (AIP-211): a missing topic is a 403 too.
    assert call(gapi, "GET", "/v1/projects/%s/topics/absent" % PROJECT, ALICE)[0] == 403
    assert call(gapi, "GET", "/v1/projects/%s/topics/absent" % PROJECT, OWNER)[0] == 404
    # The same for a repository's policy (setup-gcp.sh reads it to learn whether the repository exists).
    absent = "/v1/projects/%s/locations/us/repositories/absent:getIamPolicy" % PROJECT
    assert call(gapi, "GET", absent, ALICE)[0] == 403
    status, body = call(gapi, "GET", absent, OWNER)
    assert (status, body["error"]["status"]) == (404, "NOT_FOUND")
    assert call(gapi, "GET", "/v1/%s:getIamPolicy" % REPO, OWNER)[0] == 200


def test_a_binding_on_the_resource_or_on_the_project_allows(start_server, tmp_path):
    data = seed(tmp_path, {REPO: {"bindings": [{"role": "roles/artifactregistry.admin", "members": [ALICE]}]}})
    gapi = start_server("google_apis.py", data)
    # On the repository: its policy may be read; another repository's may not.
    assert call(gapi, "GET", "/v1/%s:getIamPolicy" % REPO, ALICE)[0] == 200
    assert call(gapi, "GET", "/v1/projects/%s/locations/us-east4/repositories/other:getIamPolicy" % PROJECT, ALICE)[0] == 403
    grant = gapi.requests()[-2]["iam"][0]["grantedBy"]
    assert grant == [[REPO, "roles/artifactregistry.admin", ""]]
    # On the project: the owner sets one, and from then on Alice may create topics anywhere in it.
    status, policy = call(gapi, "POST", "/v1/projects/%s:getIamPolicy" % PROJECT, OWNER, {})
    policy["bindings"].append({"role": "roles/pubsub.editor", "members": [ALICE]})
    assert call(gapi, "POST", "/v1/projects/%s:setIamPolicy" % PROJECT, OWNER, {"policy": policy})[0] == 200
    assert call(gapi, "PUT", "/v1/projects/%s/topics/orders" % PROJECT, ALICE, {})[0] == 200
    assert gapi.requests()[-1]["iam"][0]["grantedBy"] == [["projects/%s" % PROJECT, "roles/pubsub.editor", ""]]
    # Alice cannot change the project policy: projectIamAdmin is not hers.
    assert call(gapi, "POST", "/v1/projects/%s:setIamPolicy" % PROJECT, ALICE, {"policy": policy})[0] == 403


def test_conditions_read_resource_attributes_only_where_google_lists_them(start_server, tmp_path):
    """cloud.google.com/iam/docs/conditions-resource-attributes: Cloud Storage recognises them, Cloud Run does not."""
    service = "projects/%s/locations/us-east4/services/api" % PROJECT
    only = lambda name: {"title": "only %s" % name, "expression": 'resource.name == "%s"' % name}  # noqa: E731
    data = seed(tmp_path, {"projects/%s" % PROJECT: {"bindings": [
        {"role": "roles/owner", "members": [OWNER]},
        {"role": "roles/run.admin", "members": [ALICE], "condition": only(service)},
        {"role": "roles/storage.admin", "members": [ALICE], "condition": only("projects/_/buckets/mine")}]}},
        runServices={service: {"name": service, "uri": "https://api"}},
        buckets={"mine": {"projectNumber": NUMBER}, "theirs": {"projectNumber": NUMBER}})
    gapi = start_server("google_apis.py", data)
    # Cloud Run: the condition names this very service, and grants nothing; the log says why.
    status, body = call(gapi, "POST", "/v1/%s:getIamPolicy" % service, ALICE, {})
    assert status == 403 and "run.services.getIamPolicy" in body["error"]["message"]
    check = gapi.requests()[-1]["iam"][0]
    assert check["grantedBy"] == []
    assert check["conditionNotRecognised"] == [["projects/%s" % PROJECT, "roles/run.admin", "only %s" % service]]
    # Cloud Storage: the condition holds for its bucket, and for no other.
    assert call(gapi, "GET", "/storage/v1/b/mine", ALICE)[0] == 200
    assert gapi.requests()[-1]["iam"][0]["grantedBy"] == [["projects/%s" % PROJECT, "roles/storage.admin", "only projects/_/buckets/mine"]]
    assert call(gapi, "GET", "/storage/v1/b/theirs", ALICE)[0] == 403
    assert "conditionNotRecognised" not in gapi.requests()[-1]["iam"][0]


def test_the_condition_table_is_googles_list():
    """iam_conditions.json: the services and types whose resource attributes a condition can read."""
    assert iam.CONDITIONS["source"] == "https://cloud.google.com/iam/docs/conditions-resource-attributes"
    assert iam.CONDITIONS["read"] and "do not recognize resource attributes" in iam.CONDITIONS["says"]
    assert "storage.googleapis.com" in iam.CONDITIONS["services"]
    for absent in ("run.googleapis.com", "artifactregistry.googleapis.com", "cloudfunctions.googleapis.com",
                   "pubsub.googleapis.com", "iam.googleapis.com", "eventarc.googleapis.com", "cloudbuild.googleapis.com"):
        assert absent not in iam.CONDITIONS["services"], absent
    obj = iam.resource_attributes("storage.objects.get", "projects/_/buckets/b/objects/dir/f.zip")
    assert obj == {"service": "storage.googleapis.com", "type": "storage.googleapis.com/Object",
                   "name": "projects/_/buckets/b/objects/dir/f.zip"}
    bucket = iam.resource_attributes("storage.buckets.get", "projects/_/buckets/b")
    assert bucket["type"] == "storage.googleapis.com/Bucket"
    assert iam.condition_holds('resource.name.startsWith("projects/_/buckets/b/")', obj)
    assert not iam.condition_holds('resource.name.startsWith("projects/_/buckets/b/")', bucket)
    assert iam.condition_holds("resource.type == 'storage.googleapis.com/Object' && resource.service == 'storage.googleapis.com'", obj)
    assert iam.condition_holds('resource.name == "x" || resource.type == "storage.googleapis.com/Bucket"', bucket)
    assert not iam.condition_holds('resource.name == "projects/_/buckets/b" && resource.type == "t"', bucket)
    # Services off the list, and a listed service's types the stand-ins do not model, show no attributes.
    assert iam.resource_attributes("run.routes.invoke", "projects/p/locations/r/services/s") is None
    assert iam.resource_attributes("artifactregistry.repositories.uploadArtifacts", "projects/p/locations/r/repositories/gcf-artifacts") is None
    assert iam.resource_attributes("storage.buckets.list", "projects/p") is None
    assert not iam.condition_holds('resource.name == "projects/p/locations/r/services/s"', None)
    assert not iam.condition_holds('resource.name.startsWith("")', None)
    # What the stand-in cannot evaluate is false.
    assert not iam.condition_holds("request.time < timestamp('2030-01-01T00:00:00Z')", obj)


def test_acting_as_an_account_needs_act_as_on_it(start_server, tmp_path):
    trigger = {"name": "release", "filename": "cloudbuild.yaml", "github": {"owner": "o", "name": "r", "push": {"branch": "^main$"}},
               "serviceAccount": "projects/%s/serviceAccounts/%s" % (PROJECT, BUILDER)}
    data = seed(tmp_path, {"projects/%s" % PROJECT: {"bindings": [
        {"role": "roles/owner", "members": [OWNER]}, {"role": "roles/cloudbuild.builds.editor", "members": [ALICE]}]}})
    gapi = start_server("google_apis.py", data)
    path = "/v1/projects/%s/locations/global/triggers" % PROJECT
    status, body = call(gapi, "POST", path, ALICE, trigger)
    assert status == 403
    assert body["error"]["message"] == ("Permission 'iam.serviceAccounts.actAs' denied on resource "
                                        "'//cloudbuild.googleapis.com/projects/%s/serviceAccounts/%s' (or it may not exist)." % (PROJECT, BUILDER))
    # roles/iam.serviceAccountUser on that one account is enough, and only for it.
    account_policy = {"policy": {"bindings": [{"role": "roles/iam.serviceAccountUser", "members": [ALICE]}]}}
    assert call(gapi, "POST", "/v1/projects/%s/serviceAccounts/%s:setIamPolicy" % (PROJECT, BUILDER), OWNER, account_policy)[0] == 200
    assert call(gapi, "POST", path, ALICE, trigger)[0] == 200
    other = dict(trigger, name="other", serviceAccount="projects/%s/serviceAccounts/%s" % (PROJECT, RUNNER))
    assert call(gapi, "POST", path, ALICE, other)[0] == 403


def test_impersonation_needs_get_access_token_and_the_token_names_the_account(start_server, tmp_path):
    data = seed(tmp_path, {"projects/%s/serviceAccounts/%s" % (PROJECT, RUNNER): {"bindings": [
        {"role": "roles/iam.serviceAccountTokenCreator", "members": ["serviceAccount:%s" % BUILDER]}]}})
    gapi = start_server("google_apis.py", data)
    path = "/v1/projects/-/serviceAccounts/%s:generateAccessToken" % RUNNER
    status, body = call(gapi, "POST", path, ALICE, {"scope": ["https://www.googleapis.com/auth/cloud-platform"]})
    assert status == 403 and "iam.serviceAccounts.getAccessToken" in body["error"]["message"]
    status, body = call(gapi, "POST", path, "serviceAccount:%s" % BUILDER, {"scope": []})
    assert status == 200 and iam.member_of(body["accessToken"]) == "serviceAccount:%s" % RUNNER
    # Not for another account.
    assert call(gapi, "POST", path.replace(RUNNER, BUILDER), "serviceAccount:%s" % BUILDER, {})[0] == 403


@pytest.mark.skipif(GCLOUD is None, reason="gcloud is not installed")
def test_gcloud_shows_the_403_and_impersonates(start_server, tmp_path):
    data = seed(tmp_path, {"projects/%s/serviceAccounts/%s" % (PROJECT, RUNNER): {"bindings": [
        {"role": "roles/iam.serviceAccountTokenCreator", "members": [ALICE]}]}})
    gapi = start_server("google_apis.py", data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSDK_")}
    env.update(gcloud_env.gcloud_env(gapi.port, PROJECT, str(tmp_path / "cfg"), ALICE))
    run = lambda *a: subprocess.run([GCLOUD, *a], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)  # noqa: E731
    denied = run("pubsub", "topics", "create", "orders")
    assert denied.returncode != 0
    assert "Permission 'pubsub.topics.create' denied on resource" in denied.stderr
    token = run("auth", "print-access-token", "--impersonate-service-account=%s" % RUNNER)
    assert token.returncode == 0, token.stderr
    assert iam.member_of(token.stdout.strip()) == "serviceAccount:%s" % RUNNER


def basic(member):
    return "Basic " + base64.b64encode(("oauth2accesstoken:" + iam.token_for(member)).encode()).decode()


def test_the_python_index_asks_iam(start_server, tmp_path):
    data = seed(tmp_path, {REPO: {"bindings": [{"role": "roles/artifactregistry.reader", "members": [ALICE]}]}})
    index = start_server("pypi_index.py", tmp_path / "index", ["--iam-state", str(data / "state.json"), "--repository", REPO])

    def get(member, method="GET"):
        request = urllib.request.Request(index.url + "simple/", method=method, headers={"Authorization": basic(member)},
                                         data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    assert get(ALICE)[0] == 200
    status, text = get("user:bob@example.com")
    assert status == 403
    assert "Permission 'artifactregistry.repositories.downloadArtifacts' denied on resource '%s'" % REPO in text
    # A reader may not upload.
    status, text = get(ALICE, "POST")
    assert status == 403 and "artifactregistry.repositories.uploadArtifacts" in text
    records = index.requests()
    assert [r["identity"] for r in records] == [ALICE, "user:bob@example.com", ALICE]
    assert records[0]["iam"][0]["grantedBy"] == [[REPO, "roles/artifactregistry.reader", ""]]
    # A project-level writer may (it reads state.json on every request).
    state = json.loads((data / "state.json").read_text())
    state["iamPolicies"]["projects/%s" % PROJECT]["bindings"].append({"role": "roles/artifactregistry.writer", "members": ["user:bob@example.com"]})
    (data / "state.json").write_text(json.dumps(state))
    assert get("user:bob@example.com")[0] == 200
