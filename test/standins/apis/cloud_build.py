"""Cloud Build v1: triggers get, list, create, patch, delete; the default build service account.

Claims:
- A 2nd-gen trigger (repositoryEventConfig) is regional: `global` refuses it (gcloud builds triggers
  import --help: "Region must be specified in 2nd gen repo; global is not supported"). Its repository
  must be linked, in the trigger's project and region, through a connection in state COMPLETE (Cloud
  Build v2: only such a connection serves repositories); it has exactly one of push (branch or tag)
  or pullRequest (RepositoryEventConfig, PushFilter). The stand-in refuses a repository in another
  region (stricter reading). 1st-gen `github:` triggers are accepted in `global` and in regions, as before.
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
from apis import cloud_build_v2


TRIGGERS = r"/v1/projects/([^/]+)/locations/([^/]+)/triggers"
BUILDS = r"/v1/projects/([^/]+)/locations/([^/]+)/builds"


def record_build(ctx, project, location, trigger, account, values):
    """A build that a trigger started (Build resource: id, status, buildTriggerId, substitutions,
    serviceAccount, createTime), listed by builds.list in the trigger's region; returns its id. The
    stand-in never runs it (the tests run its steps on the host): its status stays QUEUED."""
    build_id = str(uuid.uuid4())
    name = "projects/%s/locations/%s/builds/%s" % (project, location, build_id)
    ctx.state.data.setdefault("builds", {})[name] = {
        "id": build_id, "name": name, "projectId": project, "status": "QUEUED", "createTime": now(),
        "buildTriggerId": trigger.get("id"), "serviceAccount": account, "substitutions": dict(values, **(trigger.get("substitutions") or {})),
        "tags": ["trigger-%s" % trigger.get("id")],
    }
    return build_id


@route("GET", BUILDS, "cloudbuild", "builds.list")
def builds_list(ctx, m):
    """gcloud builds list --region=R: the region's builds, newest first (Cloud Build v1 projects.locations.builds.list)."""
    ctx.authorize("cloudbuild.projects.locations.builds.list", "projects/%s" % m.group(1))
    prefix = "projects/%s/locations/%s/builds/" % m.groups()
    builds = [b for k, b in (ctx.state.data.get("builds") or {}).items() if k.startswith(prefix)]
    return {"builds": sorted(builds, key=lambda b: b["createTime"], reverse=True)}


def find_trigger(ctx, project, location, ref):
    prefix = "projects/%s/locations/%s/triggers/" % (project, location)
    for key, trigger in ctx.state["triggers"].items():
        if key.startswith(prefix) and (trigger.get("name") == ref or trigger.get("id") == ref):
            return key, trigger
    return None, None


def check_repository_event_config(ctx, project, location, trigger):
    """A 2nd-gen trigger names a linked repository of its own region, whose connection is COMPLETE."""
    config = trigger["repositoryEventConfig"] or {}
    if location == "global":
        raise ApiError(400, "Triggers on 2nd gen repositories are regional: location 'global' is not supported; "
                            "import the trigger with --region=REGION, the region of its repository.")
    if trigger.get("github") or trigger.get("triggerTemplate"):
        raise ApiError(400, "A trigger has one event source: repositoryEventConfig cannot go with github or triggerTemplate.")
    name = config.get("repository") or ""
    m = re.fullmatch(r"projects/([^/]+)/locations/([^/]+)/connections/[^/]+/repositories/[^/]+", name)
    if not m:
        raise ApiError(400, "repositoryEventConfig.repository %r is not projects/P/locations/L/connections/C/repositories/R." % name)
    if ctx.state.project_id_for(m.group(1)) != project or m.group(2) != location:
        raise ApiError(400, "repositoryEventConfig.repository %s is not in the trigger's project and region (%s, %s)."
                       % (name, project, location))
    repository = cloud_build_v2.table(ctx.state, "cloudbuildRepositories").get(name)
    if repository is None:
        raise ApiError(400, "repositoryEventConfig.repository %s does not exist: link it first (gcloud builds repositories create)."
                       % name, "FAILED_PRECONDITION")
    reason = cloud_build_v2.incomplete(cloud_build_v2.table(ctx.state, "connections")[name.split("/repositories/")[0]])
    if reason:
        raise ApiError(400, "repositoryEventConfig.repository %s: %s." % (name, reason), "FAILED_PRECONDITION")
    events = [k for k in ("push", "pullRequest") if config.get(k) is not None]
    if len(events) != 1:
        raise ApiError(400, "repositoryEventConfig needs exactly one of push or pullRequest.")
    if events == ["push"] and (config["push"].get("branch") is None) == (config["push"].get("tag") is None):
        raise ApiError(400, "repositoryEventConfig.push needs exactly one of branch or tag.")
    if events == ["pullRequest"] and config["pullRequest"].get("branch") is None:
        raise ApiError(400, "repositoryEventConfig.pullRequest needs branch.")


def store_trigger(ctx, project, location, body, existing_key=None, existing=None):
    trigger = dict(body or {})
    name = trigger.get("name")
    if not name or not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?", name):
        raise ApiError(400, "invalid trigger name %r: letters, digits and hyphens, 1-64, starting and ending alphanumeric" % name)
    if trigger.get("repositoryEventConfig") is not None:
        check_repository_event_config(ctx, project, location, trigger)
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
