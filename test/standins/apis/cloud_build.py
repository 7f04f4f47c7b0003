"""Cloud Build v1: triggers get, list, create, patch, delete; the default build service account.

Claims:
- gcloud builds triggers import sends PATCH .../triggers/NAME?triggerId=NAME, then POST on 404
  (run the real gcloud against this stand-in: test_google_apis.py).
- Trigger names: letters, digits and hyphens, 1-64, starting and ending alphanumeric.
- A trigger that runs as a user-specified account needs actAs on it
  (cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts).
"""

import re
import uuid

from standin_http import now
from apis.core import ApiError, route


TRIGGERS = r"/v1/projects/([^/]+)/locations/([^/]+)/triggers"


def find_trigger(ctx, project, location, ref):
    prefix = "projects/%s/locations/%s/triggers/" % (project, location)
    for key, trigger in ctx.state["triggers"].items():
        if key.startswith(prefix) and (trigger.get("name") == ref or trigger.get("id") == ref):
            return key, trigger
    return None, None


def store_trigger(ctx, project, location, body, existing_key=None, existing=None):
    trigger = dict(body or {})
    name = trigger.get("name")
    if not name or not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?", name):
        raise ApiError(400, "invalid trigger name %r: letters, digits and hyphens, 1-64, starting and ending alphanumeric" % name)
    if location != "global" and trigger.get("github"):
        pass  # accepted, as Google does for 1st-gen GitHub App triggers
    trigger["resourceName"] = "projects/%s/locations/%s/triggers/%s" % (project, location, name)
    if existing:
        trigger["id"] = existing["id"]
        trigger["createTime"] = existing["createTime"]
        if existing_key != trigger["resourceName"]:
            del ctx.state["triggers"][existing_key]
        ctx.changed = ctx.changed or {k: v for k, v in existing.items() if k != "createTime"} != {k: v for k, v in trigger.items() if k != "createTime"}
    else:
        trigger["id"] = str(uuid.uuid4())
        trigger["createTime"] = now()
        ctx.changed = True
    ctx.state["triggers"][trigger["resourceName"]] = trigger
    return trigger


@route("GET", TRIGGERS, "cloudbuild", "triggers.list")
def triggers_list(ctx, m):
    ctx.authorize("cloudbuild.projects.locations.triggers.list", "projects/%s" % m.group(1))
    prefix = "projects/%s/locations/%s/triggers/" % m.groups()
    return {"triggers": [t for k, t in sorted(ctx.state["triggers"].items()) if k.startswith(prefix)]}


@route("GET", TRIGGERS + r"/([^/:]+)", "cloudbuild", "triggers.get")
def triggers_get(ctx, m):
    ctx.authorize("cloudbuild.projects.locations.triggers.get", "projects/%s" % m.group(1))
    _, trigger = find_trigger(ctx, *m.groups())
    if trigger is None:
        raise ApiError(404, "Requested entity was not found.")
    return trigger


@route("POST", TRIGGERS, "cloudbuild", "triggers.create", True)
def triggers_create(ctx, m):
    project, location = m.groups()
    ctx.authorize("cloudbuild.projects.locations.triggers.create", "projects/%s" % project)
    # A trigger that runs as a user-specified account needs actAs on it
    # (cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts).
    ctx.act_as((ctx.body or {}).get("serviceAccount"))
    key, existing = find_trigger(ctx, project, location, (ctx.body or {}).get("name"))
    if existing:
        raise ApiError(409, "trigger (%s) already exists" % existing["name"])
    return store_trigger(ctx, project, location, ctx.body)


@route("PATCH", TRIGGERS + r"/([^/:]+)", "cloudbuild", "triggers.patch", True)
def triggers_patch(ctx, m):
    project, location, ref = m.groups()
    ctx.authorize("cloudbuild.projects.locations.triggers.patch", "projects/%s" % project)
    ctx.act_as((ctx.body or {}).get("serviceAccount"))
    key, existing = find_trigger(ctx, project, location, ctx.q("triggerId") or ref)
    if existing is None:
        raise ApiError(404, "Requested entity was not found.")
    return store_trigger(ctx, project, location, ctx.body, key, existing)


@route("DELETE", TRIGGERS + r"/([^/:]+)", "cloudbuild", "triggers.delete", True)
def triggers_delete(ctx, m):
    ctx.authorize("cloudbuild.projects.locations.triggers.delete", "projects/%s" % m.group(1))
    key, existing = find_trigger(ctx, *m.groups())
    if existing is None:
        raise ApiError(404, "Requested entity was not found.")
    del ctx.state["triggers"][key]
    ctx.changed = True
    return {}


@route("GET", r"/v1/projects/([^/]+)/locations/([^/]+)/defaultServiceAccount", "cloudbuild", "locations.getDefaultServiceAccount")
def build_default_sa(ctx, m):
    ctx.authorize("cloudbuild.projects.locations.getDefaultServiceAccount", "projects/%s" % m.group(1))
    project = ctx.state.project(m.group(1))
    return {
        "name": "projects/%s/locations/%s/defaultServiceAccount" % m.groups(),
        "serviceAccountEmail": "projects/%s/serviceAccounts/%s-compute@developer.gserviceaccount.com"
        % (project["projectId"], project["projectNumber"]),
    }
