"""The three conditional grants of generator-arpypi 0.2.0, as Google evaluates them: each names a
resource of a service that does not recognise resource attributes (Artifact Registry, Cloud Run),
so each grants nothing and the step it was for gets Google's 403. The Cloud Storage prefix
condition of the same setup keeps working (Cloud Storage is on Google's list)."""

import json

import pytest
from conftest import call, create_function, upload_source

PROJECT = "cond-proj-1"
NUMBER = "700000000002"
REGION = "europe-west1"
OWNER = "user:owner@example.com"
FN_BUILD = "arpypi-fn-build@%s.iam.gserviceaccount.com" % PROJECT
TRIGGER = "arpypi-ev-orders@%s.iam.gserviceaccount.com" % PROJECT
DEPLOYER = "serviceAccount:arpypi-build@%s.iam.gserviceaccount.com" % PROJECT
IMAGES = "projects/%s/locations/%s/repositories/gcf-artifacts" % (PROJECT, REGION)
SERVICE = "projects/%s/locations/%s/services/orders" % (PROJECT, REGION)
INVOKER_ROLE = "projects/%s/roles/arpypiInvokerPolicy" % PROJECT
TOPIC = "projects/%s/topics/orders" % PROJECT


def condition(title, expression):
    return {"title": title, "expression": expression}


# The project's bindings as 0.2.0's setup-gcp.sh makes them (templates/app/scripts/setup-gcp.sh.ejs).
GRANTS_0_2_0 = [
    {"role": "roles/owner", "members": [OWNER]},
    {"role": "roles/logging.logWriter", "members": ["serviceAccount:" + FN_BUILD]},
    {"role": "roles/artifactregistry.writer", "members": ["serviceAccount:" + FN_BUILD],
     "condition": condition("arpypi: function images", 'resource.name == "%s"' % IMAGES)},
    {"role": "roles/storage.objectViewer", "members": ["serviceAccount:" + FN_BUILD],
     "condition": condition("arpypi: function sources", 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-%s-%s/")' % (NUMBER, REGION))},
    {"role": "roles/run.invoker", "members": ["serviceAccount:" + TRIGGER],
     "condition": condition("arpypi: events of orders", 'resource.name == "%s"' % SERVICE)},
    {"role": INVOKER_ROLE, "members": [DEPLOYER],
     "condition": condition("arpypi: make orders public", 'resource.name == "%s"' % SERVICE)},
]


@pytest.fixture
def project(start_server, tmp_path):
    """A project with 0.2.0's grants, the Pub/Sub API enabled (its agent may mint push tokens), and the
    function orders (its trigger account TRIGGER) deployed by the owner."""
    data = tmp_path / "gcp"
    data.mkdir()
    (data / "state.json").write_text(json.dumps({
        "projects": {PROJECT: {"projectNumber": NUMBER}},
        "topics": {TOPIC: {"name": TOPIC}},
        "roles": {INVOKER_ROLE: {"name": INVOKER_ROLE, "includedPermissions": ["run.services.getIamPolicy", "run.services.setIamPolicy"]}},
        "iamPolicies": {"projects/%s" % PROJECT: {"version": 3, "etag": "ACAB", "bindings": GRANTS_0_2_0}},
    }))
    gapi = start_server("google_apis.py", data)
    assert call(gapi, "POST", "/v1/projects/%s/services/pubsub.googleapis.com:enable" % PROJECT, OWNER, {})[0] == 200
    source = upload_source(gapi, {"main.py": "def handler(event):\n    pass\n"})
    status, op = create_function(gapi, OWNER, PROJECT, REGION, "orders", source, eventTrigger={
        "eventType": "google.cloud.pubsub.topic.v1.messagePublished", "pubsubTopic": TOPIC,
        "serviceAccountEmail": TRIGGER})
    assert status == 200 and "error" not in op, op
    return gapi


def publish(gapi):
    status, _ = call(gapi, "POST", "/v1/projects/%s/topics/orders:publish" % PROJECT, OWNER, {"messages": [{"data": "e30="}]})
    assert status == 200
    return gapi.requests()[-1]["deliveries"]


def test_the_image_grant_on_gcf_artifacts_grants_nothing_and_the_build_cannot_push(project):
    source = upload_source(project, {"main.py": "def handler(request):\n    return 'ok'\n"})
    status, op = create_function(project, OWNER, PROJECT, REGION, "hello", source, FN_BUILD)
    assert status == 200  # the call succeeds; its build fails, as Google's operation does
    assert op["error"]["message"] == ("Build failed: Permission 'artifactregistry.repositories.uploadArtifacts' denied on "
                                      "resource '%s' (or it may not exist)." % IMAGES)
    checks = {c["permission"]: c for c in project.requests()[-1]["iam"] if c.get("by") == "function build"}
    assert checks["artifactregistry.repositories.uploadArtifacts"]["conditionNotRecognised"] == [
        ["projects/%s" % PROJECT, "roles/artifactregistry.writer", "arpypi: function images"]]
    # The Cloud Storage prefix condition of the same setup holds: Cloud Storage recognises resource names.
    assert checks["storage.objects.get"]["grantedBy"] == [["projects/%s" % PROJECT, "roles/storage.objectViewer", "arpypi: function sources"]]
    assert checks["logging.logEntries.create"]["grantedBy"]
    # A failed first build leaves no Cloud Run service.
    assert call(project, "GET", "/v1/projects/%s/locations/%s/services/hello" % (PROJECT, REGION), OWNER)[0] == 404


def test_the_invoker_grant_on_the_service_grants_nothing_and_events_are_refused(project):
    [delivery] = publish(project)
    assert delivery == {"function": "projects/%s/locations/%s/functions/orders" % (PROJECT, REGION), "status": 403,
                        "member": "serviceAccount:" + TRIGGER,
                        "message": "Permission 'run.routes.invoke' denied on resource '%s' (or it may not exist)." % SERVICE}
    invoke = [c for c in project.requests()[-1]["iam"] if c["permission"] == "run.routes.invoke"]
    assert invoke[0]["conditionNotRecognised"] == [["projects/%s" % PROJECT, "roles/run.invoker", "arpypi: events of orders"]]
    # The same role on the service's own policy (gcloud functions add-invoker-policy-binding) lets them through.
    policy = {"policy": {"bindings": [{"role": "roles/run.invoker", "members": ["serviceAccount:" + TRIGGER]}]}}
    assert call(project, "POST", "/v1/%s:setIamPolicy" % SERVICE, OWNER, policy)[0] == 200
    assert [d["status"] for d in publish(project)] == [200]


def test_the_invoker_policy_role_on_the_service_grants_nothing_and_a_public_deploy_fails(project):
    # gcloud functions deploy --allow-unauthenticated reads, then sets, the new service's policy
    # (command_lib/functions/v2/deploy/command.py), after the function has been created.
    status, body = call(project, "GET", "/v1/%s:getIamPolicy" % SERVICE, DEPLOYER)
    assert status == 403
    assert body["error"]["message"] == ("Permission 'run.services.getIamPolicy' denied on resource "
                                        "'//run.googleapis.com/%s' (or it may not exist)." % SERVICE)
    assert project.requests()[-1]["iam"][0]["conditionNotRecognised"] == [["projects/%s" % PROJECT, INVOKER_ROLE, "arpypi: make orders public"]]
    public = {"policy": {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]}}
    assert call(project, "POST", "/v1/%s:setIamPolicy" % SERVICE, DEPLOYER, public)[0] == 403
    # Bound on the service itself (possible once it exists), the same role lets the deployer make it public.
    own = {"policy": {"bindings": [{"role": INVOKER_ROLE, "members": [DEPLOYER]}]}}
    assert call(project, "POST", "/v1/%s:setIamPolicy" % SERVICE, OWNER, own)[0] == 200
    status, current = call(project, "GET", "/v1/%s:getIamPolicy" % SERVICE, DEPLOYER)
    assert status == 200
    current["bindings"].append(public["policy"]["bindings"][0])
    assert call(project, "POST", "/v1/%s:setIamPolicy" % SERVICE, DEPLOYER, {"policy": current})[0] == 200
