"""Cloud Functions v2: functions get, list, create, patch, delete, generateUploadUrl (and the PUT
of the zip), runtimes, getIamPolicy, setIamPolicy.

Claims:
- gcloud functions deploy --gen2 calls functions.get, runtimes.list, generateUploadUrl, PUTs the
  zip, checks services through Service Usage, then functions.create or functions.patch with an
  updateMask (run the real gcloud against this stand-in: test_google_apis.py).
- A 2nd gen function runs as a Cloud Run service of the same name (lowercase), which exists once
  the function does.
- Deploying names up to three accounts to run as (runtime, build, trigger), each needing actAs
  (cloud.google.com/functions/docs/reference/iam/roles#additional-configuration).
- functionId: lowercase letters, digits and hyphens, starting with a letter, at most 63
  (Cloud Functions v2 REST reference).
- A --trigger-topic needs the topic, a --trigger-bucket the bucket: 400 FAILED_PRECONDITION
  otherwise (stricter reading: neither gcloud's --help nor the trigger pages read say).
"""

import copy
import os
import re
import uuid

from standin_http import now
from apis.core import ApiError, camel, existing, get_policy, op_id, operation, route, set_policy
from apis.function_build import build_function

# Python runtimes offered by runtimes.list (2nd gen). python39 and older are
# decommissioned, so gcloud refuses them as it would against Google.
RUNTIMES = [
    ("python310", "Python 3.10", ["Python 3.10 is deprecated since 2026-10-04 and is decommissioned on 2027-04-04."]),
    ("python311", "Python 3.11", []),
    ("python312", "Python 3.12", []),
    ("python313", "Python 3.13", []),
    ("python314", "Python 3.14", []),
    ("nodejs22", "Node.js 22", []),
]


FUNCTIONS = r"/v2/projects/([^/]+)/locations/([^/]+)/functions"
FUNCTION = FUNCTIONS + r"/([^/:]+)"


def function_name(m):
    return "projects/%s/locations/%s/functions/%s" % (m.group(1), m.group(2), m.group(3))


def existing_function(ctx, name):
    return existing(ctx, "functions", name, "Resource '%s' was not found" % name)


def apply_mask(target, source, mask):
    for path in mask:
        keys = [camel(k) for k in path.split(".")]
        src, dst = source, target
        for key in keys[:-1]:
            src = (src or {}).get(key) if isinstance(src, dict) else None
            dst = dst.setdefault(key, {})
        value = src.get(keys[-1]) if isinstance(src, dict) else None
        if value is None:
            dst.pop(keys[-1], None)
        else:
            dst[keys[-1]] = copy.deepcopy(value)


def finish_function(ctx, name, function, project, location, function_id):
    """Fills in what Google computes: state, url, Cloud Run service, defaults."""
    number = ctx.state.project(project)["projectNumber"]
    service_id = function_id.lower().replace("_", "-")
    function["name"] = name
    function["environment"] = "GEN_2"
    function["state"] = "ACTIVE"
    function["updateTime"] = now()
    function["url"] = "https://%s-%s.cloudfunctions.net/%s" % (location, project, function_id)
    service = function.setdefault("serviceConfig", {})
    service["service"] = "projects/%s/locations/%s/services/%s" % (project, location, service_id)
    service["uri"] = "https://%s-%s.%s.run.app" % (service_id, number, location)
    service.setdefault("serviceAccountEmail", "%s-compute@developer.gserviceaccount.com" % number)
    service.setdefault("availableMemory", "256M")
    service.setdefault("timeoutSeconds", 60)
    service.setdefault("ingressSettings", "ALLOW_ALL")
    service.setdefault("allTrafficOnLatestRevision", True)
    build = function.setdefault("buildConfig", {})
    build.setdefault("dockerRepository", "projects/%s/locations/%s/repositories/gcf-artifacts" % (project, location))
    trigger = function.get("eventTrigger")
    if trigger:
        trigger.setdefault("trigger", "projects/%s/locations/%s/triggers/%s-%06d" % (project, location, service_id, ctx.state.next_id("eventarc")))
        trigger.setdefault("triggerRegion", location)
        trigger.setdefault("retryPolicy", "RETRY_POLICY_DO_NOT_RETRY")
        if trigger.get("pubsubTopic"):
            trigger.setdefault("serviceAccountEmail", service["serviceAccountEmail"])
    return function


def register_service(ctx, function):
    """The function's Cloud Run service exists once a build has succeeded (a failed first build leaves none)."""
    if function.get("state") != "FAILED":
        service = function["serviceConfig"]
        ctx.state["runServices"][service["service"]] = {"name": service["service"], "uri": service["uri"], "function": function["name"]}


def check_event_trigger(ctx, trigger, location):
    """A trigger's topic or bucket must exist (stricter reading: no source read settles either)."""
    if not trigger:
        return
    topic = trigger.get("pubsubTopic")
    if topic and topic not in ctx.state["topics"]:
        raise ApiError(400, "Cannot create a Pub/Sub trigger: topic %s does not exist." % topic, "FAILED_PRECONDITION")
    for event_filter in trigger.get("eventFilters") or []:
        if event_filter.get("attribute") == "bucket" and event_filter.get("value") not in ctx.state["buckets"]:
            raise ApiError(400, "Cannot create a storage trigger: bucket %s does not exist." % event_filter.get("value"),
                           "FAILED_PRECONDITION")




def function_operation(ctx, project, location, function, verb):
    op_name = "projects/%s/locations/%s/operations/%s" % (project, location, op_id(ctx, verb))
    metadata = {
        "@type": "type.googleapis.com/google.cloud.functions.v2.OperationMetadata",
        "createTime": now(),
        "endTime": now(),
        "target": function["name"],
        "verb": verb,
        "apiVersion": "v2",
        "requestResource": dict(function, **{"@type": "type.googleapis.com/google.cloud.functions.v2.Function"}),
        "stages": [
            {"name": "BUILD", "state": "COMPLETE", "message": "Build finished"},
            {"name": "SERVICE", "state": "COMPLETE", "message": "Service updated"},
        ],
    }
    op = operation(ctx, op_name, function, "type.googleapis.com/google.cloud.functions.v2.Function", metadata,
                   read_with=("cloudfunctions.projects.locations.operations.get", "projects/%s/locations/%s" % (project, location)))
    if function.get("state") == "FAILED":
        # The build failed: the operation ends with its error, as Google's does.
        op.pop("response")
        op["error"] = {"code": 7, "message": "Build failed: %s" % function["stateMessages"][0]["message"]}
    return op


def authorize_deploy(ctx, function):
    """Deploying names up to three accounts to run as, each needing actAs
    (cloud.google.com/functions/docs/reference/iam/roles#additional-configuration)."""
    service = function.get("serviceConfig") or {}
    ctx.act_as(service.get("serviceAccountEmail") or "%s-compute@developer.gserviceaccount.com" % ctx.state.project(function["name"].split("/")[1])["projectNumber"])
    ctx.act_as((function.get("buildConfig") or {}).get("serviceAccount"))
    ctx.act_as((function.get("eventTrigger") or {}).get("serviceAccountEmail"))




@route("GET", FUNCTION, "cloudfunctions", "functions.get")
def functions_get(ctx, m):
    ctx.authorize("cloudfunctions.projects.locations.functions.get", function_name(m))
    return existing_function(ctx, function_name(m))


@route("GET", FUNCTIONS, "cloudfunctions", "functions.list")
def functions_list(ctx, m):
    project, location = m.groups()
    ctx.authorize("cloudfunctions.projects.locations.functions.list", "projects/%s/locations/%s" % (project, location))
    prefix = "projects/%s/locations/" % project
    return {"functions": [f for n, f in sorted(ctx.state["functions"].items())
                          if n.startswith(prefix) and (location == "-" or n.startswith(prefix + location + "/"))]}


@route("POST", FUNCTIONS, "cloudfunctions", "functions.create", True)
def functions_create(ctx, m):
    project, location = m.groups()
    ctx.authorize("cloudfunctions.projects.locations.functions.create", "projects/%s/locations/%s" % (project, location))
    function_id = ctx.q("functionId") or ((ctx.body or {}).get("name") or "").rsplit("/", 1)[-1]
    if not re.fullmatch(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", function_id):
        raise ApiError(400, "Invalid function id %r: lowercase letters, digits and hyphens, starting with a letter, at most 63 characters." % function_id)
    name = "projects/%s/locations/%s/functions/%s" % (project, location, function_id)
    if name in ctx.state["functions"]:
        raise ApiError(409, "Function %s already exists" % name)
    function = copy.deepcopy(ctx.body or {})
    check_event_trigger(ctx, function.get("eventTrigger"), location)
    finish_function(ctx, name, function, project, location, function_id)
    authorize_deploy(ctx, function)
    build_function(ctx, function, project, location, function_id)
    register_service(ctx, function)
    function["createTime"] = now()
    ctx.state["functions"][name] = function
    ctx.changed = True
    return function_operation(ctx, project, location, function, "create")


@route("PATCH", FUNCTION, "cloudfunctions", "functions.patch", True)
def functions_patch(ctx, m):
    project, location, function_id = m.groups()
    name = function_name(m)
    ctx.authorize("cloudfunctions.projects.locations.functions.patch", name)
    current = existing_function(ctx, name)
    updated = copy.deepcopy(current)
    mask = [p for p in (ctx.q("updateMask") or "").split(",") if p]
    if mask:
        apply_mask(updated, ctx.body or {}, mask)
    else:
        updated.update(copy.deepcopy(ctx.body or {}))
    check_event_trigger(ctx, updated.get("eventTrigger"), location)
    finish_function(ctx, name, updated, project, location, function_id)
    authorize_deploy(ctx, updated)
    build_function(ctx, updated, project, location, function_id)
    register_service(ctx, updated)
    ignored = ("updateTime",)
    if {k: v for k, v in updated.items() if k not in ignored} != {k: v for k, v in current.items() if k not in ignored}:
        ctx.state["functions"][name] = updated
    else:
        updated = current
    op = function_operation(ctx, project, location, updated, "update")
    ctx.changed = updated is not current
    return op


@route("DELETE", FUNCTION, "cloudfunctions", "functions.delete", True)
def functions_delete(ctx, m):
    project, location, _ = m.groups()
    ctx.authorize("cloudfunctions.projects.locations.functions.delete", function_name(m))
    function = existing_function(ctx, function_name(m))
    del ctx.state["functions"][function_name(m)]
    ctx.changed = True
    return function_operation(ctx, project, location, function, "delete")


@route("POST", FUNCTIONS + r":generateUploadUrl", "cloudfunctions", "functions.generateUploadUrl")
def functions_upload_url(ctx, m):
    project, location = m.groups()
    ctx.authorize("cloudfunctions.projects.locations.functions.generateUploadUrl", "projects/%s/locations/%s" % (project, location))
    number = ctx.state.project(project)["projectNumber"]
    obj = "%s.zip" % uuid.uuid4()
    return {
        "uploadUrl": "%s/upload/%s" % (ctx.base_url, obj),
        "storageSource": {"bucket": "gcf-v2-uploads-%s.%s.cloudfunctions.appspot.com" % (number, location), "object": obj},
    }


@route("GET", r"/v2/projects/([^/]+)/locations/([^/]+)/runtimes", "cloudfunctions", "runtimes.list")
def runtimes_list(ctx, m):
    ctx.authorize("cloudfunctions.projects.locations.runtimes.list", "projects/%s/locations/%s" % m.groups())
    runtimes = []
    for name, display, warnings in RUNTIMES:
        runtime = {"name": name, "displayName": display, "stage": "GA", "environment": "GEN_2"}
        if warnings:
            runtime["warnings"] = warnings
            runtime["stage"] = "DEPRECATED"
        runtimes.append(runtime)
    return {"runtimes": runtimes}


@route("POST", FUNCTION + r":getIamPolicy", "cloudfunctions", "functions.getIamPolicy")
@route("GET", FUNCTION + r":getIamPolicy", "cloudfunctions", "functions.getIamPolicy")
def functions_get_iam(ctx, m):
    ctx.authorize("cloudfunctions.projects.locations.functions.getIamPolicy", function_name(m))
    existing_function(ctx, function_name(m))
    return get_policy(ctx, function_name(m))


@route("POST", FUNCTION + r":setIamPolicy", "cloudfunctions", "functions.setIamPolicy", True)
def functions_set_iam(ctx, m):
    ctx.authorize("cloudfunctions.projects.locations.functions.setIamPolicy", function_name(m))
    existing_function(ctx, function_name(m))
    return set_policy(ctx, function_name(m))


@route("PUT", r"/upload/([0-9a-f-]+\.zip)", "storage", "upload.put", True)
def upload_put(ctx, m):
    uploads = os.path.join(ctx.handler.server.data_dir, "uploads")
    os.makedirs(uploads, exist_ok=True)
    with open(os.path.join(uploads, m.group(1)), "wb") as f:
        f.write(ctx.raw)
    ctx.changed = True
    return {}
