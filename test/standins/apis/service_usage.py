"""Service Usage v1: services list, get, enable, batchEnable, disable; their operations.

Claims:
- No service is enabled until enabled; enabling an enabled service changes nothing, but gcloud
  sends the call anyway (gcloud services enable: serviceusage.services.enable / batchEnable).
- Operations come back done (the stand-in models no waiting).
- Enabling pubsub.googleapis.com creates the Pub/Sub service agent, granted roles/pubsub.serviceAgent
  on the project (cloud.google.com/iam/docs/service-agents: Google creates an agent "after you
  activate and use the API" and "When the service agent is created, Google grants this role
  automatically"; the stand-in takes the enable as that moment). To model an agent created on or
  before 2021-04-08, seed the API as enabled: no grant is made then.
"""

import base64
import uuid

from apis.core import operation, route
from apis.eventarc import pubsub_agent


SERVICE_TITLES = {
    "artifactregistry.googleapis.com": "Artifact Registry API",
    "cloudbuild.googleapis.com": "Cloud Build API",
    "cloudfunctions.googleapis.com": "Cloud Functions API",
    "run.googleapis.com": "Cloud Run Admin API",
    "pubsub.googleapis.com": "Cloud Pub/Sub API",
    "iam.googleapis.com": "Identity and Access Management (IAM) API",
    "eventarc.googleapis.com": "Eventarc API",
    "logging.googleapis.com": "Cloud Logging API",
}


def service_resource(ctx, project_id, name):
    number = ctx.state.project(project_id)["projectNumber"]
    enabled = name in ctx.state["services"].get(project_id, [])
    return {
        "name": "projects/%s/services/%s" % (number, name),
        "parent": "projects/%s" % number,
        "config": {"name": name, "title": SERVICE_TITLES.get(name, name)},
        "state": "ENABLED" if enabled else "DISABLED",
    }


def grant_pubsub_agent(ctx, project_id):
    """Enabling the Pub/Sub API creates its service agent, which Google grants roles/pubsub.serviceAgent
    on the project (cloud.google.com/iam/docs/service-agents: "When the service agent is created,
    Google grants this role automatically")."""
    resource = "projects/%s" % project_id
    policy = ctx.state.policy(resource)
    agent = pubsub_agent(ctx.state.project(project_id)["projectNumber"])
    bindings = policy.setdefault("bindings", [])
    if not any(b.get("role") == "roles/pubsub.serviceAgent" and agent in b.get("members", []) and not b.get("condition") for b in bindings):
        bindings.append({"role": "roles/pubsub.serviceAgent", "members": [agent]})
        policy["etag"] = base64.b64encode(("etag-%d" % ctx.state.next_id("etag")).encode()).decode()
        ctx.state["iamPolicies"][resource] = policy


def enable_services(ctx, project_id, names, enable=True):
    enabled = ctx.state["services"].setdefault(project_id, [])
    before = list(enabled)
    for name in names:
        if enable and name not in enabled:
            enabled.append(name)
        if not enable and name in enabled:
            enabled.remove(name)
    enabled.sort()
    changed = before != enabled
    if "pubsub.googleapis.com" in set(enabled) - set(before):
        grant_pubsub_agent(ctx, project_id)
    services = [service_resource(ctx, project_id, n) for n in names]
    op_name = "operations/acat.p2-%s-%s" % (ctx.state.project(project_id)["projectNumber"], uuid.uuid4())
    op = operation(ctx, op_name, {"services": services}, "type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse",
                   read_with=("serviceusage.operations.get", "projects/%s" % project_id))
    ctx.changed = changed
    return op


@route("GET", r"/v1/projects/([^/:]+)/services", "serviceusage", "services.list")
def services_list(ctx, m):
    ctx.authorize("serviceusage.services.list", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    project_id = ctx.state.project(ctx.state.project_id_for(m.group(1)))["projectId"]
    only_enabled = "ENABLED" in (ctx.q("filter") or "")
    names = sorted(ctx.state["services"].get(project_id, []))
    if not only_enabled:
        names = sorted(set(names) | set(SERVICE_TITLES))
    return {"services": [service_resource(ctx, project_id, n) for n in names]}


@route("GET", r"/v1/projects/([^/:]+)/services/([^/:]+)", "serviceusage", "services.get")
def services_get(ctx, m):
    ctx.authorize("serviceusage.services.get", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    project_id = ctx.state.project(ctx.state.project_id_for(m.group(1)))["projectId"]
    return service_resource(ctx, project_id, m.group(2))


@route("POST", r"/v1/projects/([^/:]+)/services:batchEnable", "serviceusage", "services.batchEnable", True)
def services_batch_enable(ctx, m):
    ctx.authorize("serviceusage.services.batchEnable", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    project_id = ctx.state.project(ctx.state.project_id_for(m.group(1)))["projectId"]
    return enable_services(ctx, project_id, (ctx.body or {}).get("serviceIds") or [])


@route("POST", r"/v1/projects/([^/:]+)/services/([^/:]+):enable", "serviceusage", "services.enable", True)
def services_enable(ctx, m):
    ctx.authorize("serviceusage.services.enable", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    project_id = ctx.state.project(ctx.state.project_id_for(m.group(1)))["projectId"]
    op = enable_services(ctx, project_id, [m.group(2)])
    op["response"] = {"@type": "type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse",
                      "service": op["response"]["services"][0]}
    return op


@route("POST", r"/v1/projects/([^/:]+)/services/([^/:]+):disable", "serviceusage", "services.disable", True)
def services_disable(ctx, m):
    ctx.authorize("serviceusage.services.disable", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    project_id = ctx.state.project(ctx.state.project_id_for(m.group(1)))["projectId"]
    op = enable_services(ctx, project_id, [m.group(2)], enable=False)
    op["response"] = {"@type": "type.googleapis.com/google.api.serviceusage.v1.DisableServiceResponse",
                      "service": op["response"]["services"][0]}
    return op
