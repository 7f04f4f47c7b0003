"""Event delivery and a function's Cloud Run service: the Pub/Sub agent's push token as gcloud decides
it, run.routes.invoke on the service (its own policy, then the project's), and allUsers."""

import json

import pytest
from conftest import call, create_function, upload_source

PROJECT = "events-proj-1"
NUMBER = "700000000003"
REGION = "us-east4"
OWNER = "user:owner@example.com"
TRIGGER = "ev-jobs@%s.iam.gserviceaccount.com" % PROJECT
AGENT = "serviceAccount:service-%s@gcp-sa-pubsub.iam.gserviceaccount.com" % NUMBER
SERVICE = "projects/%s/locations/%s/services/jobs" % (PROJECT, REGION)
PROJECT_POLICY = "projects/%s" % PROJECT
TOPIC = "projects/%s/topics/jobs" % PROJECT


def start(start_server, tmp_path, services=()):
    """A project whose trigger account may invoke the function jobs (on the service itself), and
    SERVICES already enabled (as in a project that enabled them before this run)."""
    data = tmp_path / "gcp"
    data.mkdir()
    (data / "state.json").write_text(json.dumps({
        "projects": {PROJECT: {"projectNumber": NUMBER}},
        "topics": {TOPIC: {"name": TOPIC}},
        "services": {PROJECT: list(services)},
    }))
    gapi = start_server("google_apis.py", data)
    source = upload_source(gapi, {"main.py": "def handler(event):\n    pass\n"})
    status, op = create_function(gapi, OWNER, PROJECT, REGION, "jobs", source, eventTrigger={
        "eventType": "google.cloud.pubsub.topic.v1.messagePublished", "pubsubTopic": TOPIC,
        "serviceAccountEmail": TRIGGER})
    assert status == 200 and "error" not in op, op
    bind(gapi, SERVICE, "roles/run.invoker", "serviceAccount:" + TRIGGER)
    return gapi


def bind(gapi, resource, role, member):
    path = "/v1/%s" % resource
    status, policy = call(gapi, "GET" if "/services/" in resource else "POST", path + ":getIamPolicy", OWNER, None if "/services/" in resource else {})
    assert status == 200
    policy.setdefault("bindings", []).append({"role": role, "members": [member]})
    assert call(gapi, "POST", path + ":setIamPolicy", OWNER, {"policy": policy})[0] == 200


def publish(gapi):
    assert call(gapi, "POST", "/v1/projects/%s/topics/jobs:publish" % PROJECT, OWNER, {"messages": [{"data": "e30="}]})[0] == 200
    return [(d["status"], d["member"]) for d in gapi.requests()[-1]["deliveries"]]


def test_enabling_pubsub_makes_its_agent_with_the_role_that_mints_push_tokens(start_server, tmp_path):
    gapi = start(start_server, tmp_path)
    # Not enabled yet: no agent, no role, no token.
    assert publish(gapi) == [(403, AGENT)]
    assert call(gapi, "POST", "/v1/projects/%s/services:batchEnable" % PROJECT, OWNER, {"serviceIds": ["pubsub.googleapis.com"]})[0] == 200
    status, policy = call(gapi, "POST", "/v1/%s:getIamPolicy" % PROJECT_POLICY, OWNER, {})
    assert {"role": "roles/pubsub.serviceAgent", "members": [AGENT]} in policy["bindings"]
    assert publish(gapi) == [(200, "serviceAccount:" + TRIGGER)]
    token = [c for c in gapi.requests()[-1]["iam"] if c["permission"] == "iam.serviceAccounts.getOpenIdToken"]
    assert token[0]["grantedBy"] == [[PROJECT_POLICY, "roles/pubsub.serviceAgent", ""]]
    # Enabling it again makes nothing new.
    assert call(gapi, "POST", "/v1/projects/%s/services/pubsub.googleapis.com:enable" % PROJECT, OWNER, {})[0] == 200
    assert gapi.requests()[-1]["changed"] is False


@pytest.mark.parametrize("role", ["roles/iam.serviceAccountTokenCreator", "roles/pubsub.serviceAgent"])
def test_an_agent_from_before_2021_04_08_needs_either_role_gcloud_accepts(start_server, tmp_path, role):
    # Pub/Sub enabled before this run (seeded): the agent exists without the role.
    gapi = start(start_server, tmp_path, services=["pubsub.googleapis.com"])
    assert publish(gapi) == [(403, AGENT)]
    bind(gapi, PROJECT_POLICY, role, AGENT)
    assert publish(gapi) == [(200, "serviceAccount:" + TRIGGER)]


def test_a_service_policy_decides_who_invokes_and_all_users_makes_it_public(start_server, tmp_path):
    gapi = start(start_server, tmp_path, services=["pubsub.googleapis.com"])
    invoke = "/invoke/%s" % SERVICE
    caller = "serviceAccount:caller@%s.iam.gserviceaccount.com" % PROJECT
    assert call(gapi, "POST", invoke)[0] == 403
    assert call(gapi, "POST", invoke, caller)[0] == 403
    assert call(gapi, "POST", invoke, "serviceAccount:" + TRIGGER) == (200, {
        "function": "projects/%s/locations/%s/functions/jobs" % (PROJECT, REGION), "invokedBy": "serviceAccount:" + TRIGGER})
    # A project-wide invoker may invoke every service of the project.
    bind(gapi, PROJECT_POLICY, "roles/run.invoker", caller)
    assert call(gapi, "POST", invoke, caller)[0] == 200
    # allUsers on the service: anyone, with or without a token; removed, the function is private again.
    bind(gapi, SERVICE, "roles/run.invoker", "allUsers")
    assert call(gapi, "GET", invoke) == (200, {"function": "projects/%s/locations/%s/functions/jobs" % (PROJECT, REGION), "invokedBy": "allUsers"})
    status, policy = call(gapi, "GET", "/v1/%s:getIamPolicy" % SERVICE, OWNER)
    policy["bindings"] = [b for b in policy["bindings"] if b["members"] != ["allUsers"]]
    assert call(gapi, "POST", "/v1/%s:setIamPolicy" % SERVICE, OWNER, {"policy": policy})[0] == 200
    assert call(gapi, "GET", invoke)[0] == 403
    assert call(gapi, "POST", "/invoke/projects/%s/locations/%s/services/nothing" % (PROJECT, REGION))[0] == 404


def test_a_trigger_needs_its_topic(start_server, tmp_path):
    gapi = start(start_server, tmp_path)
    source = upload_source(gapi, {"main.py": "def handler(event):\n    pass\n"})
    status, body = create_function(gapi, OWNER, PROJECT, REGION, "orphan", source, eventTrigger={
        "eventType": "google.cloud.pubsub.topic.v1.messagePublished", "pubsubTopic": "projects/%s/topics/none" % PROJECT})
    assert status == 400 and body["error"]["status"] == "FAILED_PRECONDITION" and "topics/none" in body["error"]["message"]
