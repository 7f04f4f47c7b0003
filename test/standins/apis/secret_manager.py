"""Secret Manager v1: secrets create, get, list, delete; versions add, get, list, access; secret IAM.

Claims:
- Paths and methods as gcloud 528's generated client has them
  (generated_clients/apis/secretmanager/v1/secretmanager_v1_client.py): POST .../secrets?secretId=S,
  POST .../secrets/S:addVersion, GET .../versions/V:access, GET .../secrets/S:getIamPolicy,
  POST .../secrets/S:setIamPolicy; versions are numbered from 1, and "latest" names the newest
  version ("projects/*/secrets/*/versions/latest is an alias to the most recently created
  SecretVersion", AccessSecretVersion reference).
- Each method checks the permission named after it (secretmanager.secrets.create,
  secretmanager.versions.add, secretmanager.versions.access, ...) on the secret or its project;
  roles/secretmanager.secretAccessor holds versions.access only, roles/secretmanager.admin all of
  them (cloud.google.com/iam/docs/roles-permissions/secretmanager; iam_data.json "supplement").
  "IAM roles can't be granted on a secret version": policies sit on the secret or above.
- A call to the API while secretmanager.googleapis.com is not enabled in the project is refused
  with 403 SERVICE_DISABLED (google.rpc.ErrorInfo reason SERVICE_DISABLED, as Google's APIs answer
  a disabled service); Google's pages on 2nd-gen repositories start with "Enable the Cloud Build
  and Secret Manager APIs".
- The payload is base64 in `payload.data` (SecretPayload reference); access returns it as sent.
"""

import re

from standin_http import now
from apis.core import ApiError, get_policy, route, set_policy

SECRETS = r"/v1/projects/([^/:]+)/secrets"
SECRET = SECRETS + r"/([^/:]+)"
SECRET_ID = re.compile(r"[A-Za-z0-9_-]{1,255}\Z")  # the API reference's secretId charset


def secrets(state):
    return state.data.setdefault("secrets", {})


def require_enabled(ctx, project):
    if "secretmanager.googleapis.com" not in ctx.state["services"].get(project, []):
        number = ctx.state.project(project)["projectNumber"]
        raise ApiError(403, "Secret Manager API has not been used in project %s before or it is disabled. Enable it by "
                            "visiting https://console.developers.google.com/apis/api/secretmanager.googleapis.com/overview?project=%s "
                            "then retry." % (number, number), "PERMISSION_DENIED",
                       [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
                         "domain": "googleapis.com", "metadata": {"service": "secretmanager.googleapis.com",
                                                                   "consumer": "projects/%s" % number}}])


def open_secret(ctx, project, secret_id, method):
    """The stored secret after the IAM check (which comes first, AIP-211), or 404."""
    name = "projects/%s/secrets/%s" % (project, secret_id)
    ctx.authorize(method, name)
    require_enabled(ctx, project)
    secret = secrets(ctx.state).get(name)
    if secret is None:
        raise ApiError(404, "Secret [%s] not found or has no versions." % name)
    return name, secret


def public(secret):
    return {k: v for k, v in secret.items() if k != "versions"}


def resolve_version(secret, ref):
    """The version REF names (a number, or "latest": the newest), or None."""
    versions = secret.get("versions") or []
    if ref == "latest":
        live = [v for v in versions if v["state"] != "DESTROYED"]
        return live[-1] if live else None
    for version in versions:
        if version["name"].rsplit("/", 1)[-1] == ref:
            return version
    return None


def version_view(version):
    return {k: v for k, v in version.items() if k != "payload"}


def parse_version_name(name):
    """(project, secret id, version) of projects/P/secrets/S/versions/V, or None."""
    m = re.fullmatch(r"projects/([^/]+)/secrets/([^/]+)/versions/([^/]+)", name or "")
    return m.groups() if m else None


def readable_version(ctx, name, member, by):
    """Whether MEMBER could access secret version NAME now, as Google checks on its behalf: the version
    exists and is ENABLED, and MEMBER holds secretmanager.versions.access on the secret or its project.
    Returns None when it can, else the reason (one sentence)."""
    parts = parse_version_name(name)
    if parts is None:
        return "%r is not a secret version name (projects/*/secrets/*/versions/*)" % name
    project, secret_id, ref = parts
    project = ctx.state.project_id_for(project)
    secret_name = "projects/%s/secrets/%s" % (project, secret_id)
    if not ctx.check("secretmanager.versions.access", secret_name, member=member, by=by):
        return "%s lacks secretmanager.versions.access on %s (roles/secretmanager.secretAccessor or roles/secretmanager.admin)" % (
            member.split(":", 1)[-1], secret_name)
    secret = secrets(ctx.state).get(secret_name)
    version = resolve_version(secret, ref) if secret else None
    if version is None:
        return "secret version %s does not exist" % name
    if version["state"] != "ENABLED":
        return "secret version %s is %s" % (name, version["state"])
    return None


def store_version(ctx, secret_name, data):
    """Adds a version holding DATA (base64) to a stored secret; returns it."""
    secret = secrets(ctx.state)[secret_name]
    versions = secret.setdefault("versions", [])
    version = {"name": "%s/versions/%d" % (secret_name, len(versions) + 1), "createTime": now(), "state": "ENABLED",
               "payload": data}
    versions.append(version)
    ctx.changed = True
    return version


def create_secret(ctx, project, secret_id, body=None):
    name = "projects/%s/secrets/%s" % (project, secret_id)
    secret = {"name": name, "createTime": now(), "replication": (body or {}).get("replication") or {"automatic": {}}}
    if (body or {}).get("labels"):
        secret["labels"] = body["labels"]
    secrets(ctx.state)[name] = dict(secret, versions=[])
    ctx.changed = True
    return secret


@route("POST", SECRETS, "secretmanager", "secrets.create", True)
def secrets_create(ctx, m):
    project = ctx.state.project_id_for(m.group(1))
    ctx.authorize("secretmanager.projects.secrets.create", "projects/%s" % project)
    require_enabled(ctx, project)
    secret_id = ctx.q("secretId") or ""
    if not SECRET_ID.match(secret_id):
        raise ApiError(400, "secretId %r must be 1-255 letters, digits, hyphens and underscores." % secret_id)
    if "projects/%s/secrets/%s" % (project, secret_id) in secrets(ctx.state):
        raise ApiError(409, "Secret [projects/%s/secrets/%s] already exists." % (ctx.state.project(project)["projectNumber"], secret_id))
    return create_secret(ctx, project, secret_id, ctx.body)


@route("GET", SECRETS, "secretmanager", "secrets.list")
def secrets_list(ctx, m):
    project = ctx.state.project_id_for(m.group(1))
    ctx.authorize("secretmanager.projects.secrets.list", "projects/%s" % project)
    require_enabled(ctx, project)
    prefix = "projects/%s/secrets/" % project
    found = [public(s) for k, s in sorted(secrets(ctx.state).items()) if k.startswith(prefix)]
    return {"secrets": found, "totalSize": len(found)} if found else {}


@route("GET", SECRET, "secretmanager", "secrets.get")
def secrets_get(ctx, m):
    _, secret = open_secret(ctx, ctx.state.project_id_for(m.group(1)), m.group(2), "secretmanager.projects.secrets.get")
    return public(secret)


@route("DELETE", SECRET, "secretmanager", "secrets.delete", True)
def secrets_delete(ctx, m):
    name, _ = open_secret(ctx, ctx.state.project_id_for(m.group(1)), m.group(2), "secretmanager.projects.secrets.delete")
    del secrets(ctx.state)[name]
    ctx.state["iamPolicies"].pop(name, None)
    ctx.changed = True
    return {}


@route("POST", SECRET + r":addVersion", "secretmanager", "secrets.addVersion", True)
def secrets_add_version(ctx, m):
    name, _ = open_secret(ctx, ctx.state.project_id_for(m.group(1)), m.group(2), "secretmanager.projects.secrets.addVersion")
    data = ((ctx.body or {}).get("payload") or {}).get("data")
    if data is None:
        raise ApiError(400, "payload.data is required.")
    version = version_view(store_version(ctx, name, data))
    if ((ctx.body or {}).get("payload") or {}).get("dataCrc32c") is not None:
        # gcloud reads this flag to know that the server checked the checksum it sent.
        version["clientSpecifiedPayloadChecksum"] = True
    return version


@route("GET", SECRET + r"/versions", "secretmanager", "secrets.versions.list")
def versions_list(ctx, m):
    _, secret = open_secret(ctx, ctx.state.project_id_for(m.group(1)), m.group(2), "secretmanager.projects.secrets.versions.list")
    found = [version_view(v) for v in reversed(secret.get("versions") or [])]
    return {"versions": found, "totalSize": len(found)} if found else {}


def open_version(ctx, m, method):
    name, secret = open_secret(ctx, ctx.state.project_id_for(m.group(1)), m.group(2), method)
    version = resolve_version(secret, m.group(3))
    if version is None:
        raise ApiError(404, "Secret Version [%s/versions/%s] not found." % (name, m.group(3)))
    return version


@route("GET", SECRET + r"/versions/([^/:]+)", "secretmanager", "secrets.versions.get")
def versions_get(ctx, m):
    return version_view(open_version(ctx, m, "secretmanager.projects.secrets.versions.get"))


@route("GET", SECRET + r"/versions/([^/:]+):access", "secretmanager", "secrets.versions.access")
def versions_access(ctx, m):
    version = open_version(ctx, m, "secretmanager.projects.secrets.versions.access")
    if version["state"] != "ENABLED":
        raise ApiError(400, "Secret Version [%s] is in %s state." % (version["name"], version["state"]), "FAILED_PRECONDITION")
    return {"name": version["name"], "payload": {"data": version["payload"]}}


def set_version_state(ctx, m, verb, state):
    version = open_version(ctx, m, "secretmanager.projects.secrets.versions.%s" % verb)
    ctx.changed = version["state"] != state
    version["state"] = state
    return version_view(version)


@route("POST", SECRET + r"/versions/([^/:]+):disable", "secretmanager", "secrets.versions.disable", True)
def versions_disable(ctx, m):
    return set_version_state(ctx, m, "disable", "DISABLED")


@route("POST", SECRET + r"/versions/([^/:]+):enable", "secretmanager", "secrets.versions.enable", True)
def versions_enable(ctx, m):
    return set_version_state(ctx, m, "enable", "ENABLED")


@route("GET", SECRET + r":getIamPolicy", "secretmanager", "secrets.getIamPolicy")
def secrets_get_iam(ctx, m):
    name, _ = open_secret(ctx, ctx.state.project_id_for(m.group(1)), m.group(2), "secretmanager.projects.secrets.getIamPolicy")
    return get_policy(ctx, name)


@route("POST", SECRET + r":setIamPolicy", "secretmanager", "secrets.setIamPolicy", True)
def secrets_set_iam(ctx, m):
    name, _ = open_secret(ctx, ctx.state.project_id_for(m.group(1)), m.group(2), "secretmanager.projects.secrets.setIamPolicy")
    return set_policy(ctx, name)
