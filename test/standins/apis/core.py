"""What every stand-in API shares: state, routing, errors, IAM checks, operations, policies.

Claims modelled here (each service module lists its own):
- Errors have Google's shape, {"error": {"code", "message", "status"}} (AIP-193).
- A call without credentials is 401 UNAUTHENTICATED; a denied permission is 403 before
  anything else, even for a resource that does not exist (AIP-211, "(or it may not exist)").
- A binding on the resource or on an ancestor up to its project grants
  (cloud.google.com/iam/docs/resource-hierarchy-access-control); conditions as iam.py says.
- Naming a service account for something to run as needs iam.serviceAccounts.actAs on it
  (cloud.google.com/iam/docs/service-accounts-actas).
- setIamPolicy with a stale etag is 409 ABORTED (cloud.google.com/iam/docs/policies#etag).
"""

import base64
import copy
import json
import os
import re
import threading

import iam

DEFAULT_PROJECT_NUMBER = "123456789012"
DEFAULT_OWNER = iam.DEFAULT_OWNER

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
}


class ApiError(Exception):
    def __init__(self, code, message, status=None, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details

    def body(self):
        error = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


# A request without a stand-in access token, in Google's words.
UNAUTHENTICATED = ("Request is missing required authentication credential. Expected OAuth 2 access token, "
                   "login cookie or other valid authentication credential. "
                   "See https://developers.google.com/identity/sign-in/web/devconsole-project.")


def not_found(what):
    return ApiError(404, "%s not found." % what)


def existing(ctx, kind, key, message):
    """The resource of state[kind][key], or the 404 (with Google's wording) it would get."""
    resource = ctx.state[kind].get(key)
    if resource is None:
        raise ApiError(404, message)
    return resource


# --------------------------------------------------------------------------
# State


class State:
    """All resources, persisted to DIR/state.json after every change."""

    KEYS = ("projects", "services", "iamPolicies", "triggers", "functions", "repositories",
            "serviceAccounts", "topics", "buckets", "runServices", "operations", "counters", "roles",
            "operationChecks")

    def __init__(self, path):
        self.path = path
        self.lock = threading.RLock()
        data = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        for key in self.KEYS:
            data.setdefault(key, {})
        self.data = data

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)

    def __getitem__(self, key):
        return self.data[key]

    def next_id(self, kind):
        counters = self.data["counters"]
        counters[kind] = counters.get(kind, 0) + 1
        return counters[kind]

    # Projects exist unless state.json says otherwise ("projects": {"gone": null}).
    def project(self, project_id):
        projects = self.data["projects"]
        if project_id in projects and projects[project_id] is None:
            raise ApiError(403, "The caller does not have permission", "PERMISSION_DENIED")
        seeded = projects.get(project_id) or {}
        number = str(seeded.get("projectNumber", DEFAULT_PROJECT_NUMBER))
        project = {
            "projectId": project_id,
            "projectNumber": number,
            "name": project_id,
            "lifecycleState": "ACTIVE",
            "createTime": "2026-01-01T00:00:00.000Z",
        }
        project.update(seeded)
        project["projectNumber"] = number
        return project

    def project_id_for(self, id_or_number):
        if not re.fullmatch(r"\d+", id_or_number):
            return id_or_number
        for project_id, seeded in self.data["projects"].items():
            if seeded and str(seeded.get("projectNumber")) == id_or_number:
                return project_id
        return id_or_number

    def policy(self, resource):
        policies = self.data["iamPolicies"]
        if resource not in policies:
            return iam.default_policy(resource)
        return copy.deepcopy(policies[resource])


def canonical_bindings(policy):
    result = []
    for binding in policy.get("bindings") or []:
        members = sorted(set(binding.get("members") or []))
        if not members:
            continue
        condition = binding.get("condition")
        result.append((binding.get("role"), json.dumps(condition, sort_keys=True) if condition else None, tuple(members)))
    merged = {}
    for role, condition, members in result:
        merged.setdefault((role, condition), set()).update(members)
    audit = json.dumps(policy.get("auditConfigs") or [], sort_keys=True)
    return sorted((k[0], k[1] or "", tuple(sorted(v))) for k, v in merged.items()), audit


# --------------------------------------------------------------------------
# Routing

ROUTES = []


def route(method, pattern, api, rpc, mutating=False):
    """Registers a handler for METHOD and a full-path regex (query excluded)."""

    def register(fn):
        ROUTES.append((method, re.compile(pattern + r"\Z"), api, rpc, mutating, fn))
        return fn

    return register


class Context:
    def __init__(self, handler, state, query, body, raw, api=None, member=None):
        self.handler = handler
        self.state = state
        self.query = query
        self.body = body
        self.raw = raw
        self.api = api
        self.member = member
        self.checks = []  # every permission check, granted or not (the request log keeps them)
        self.changed = False
        self.extra = {}
        self.base_url = "http://127.0.0.1:%d" % handler.server.server_address[1]

    def q(self, name, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    # --- IAM -------------------------------------------------------------
    # A method is allowed when a binding on the resource it names, or on an ancestor up to
    # the project, grants a role holding the permission Google checks for that method
    # (iam_data.json); otherwise 403 before anything else, even for a resource that does
    # not exist (AIP-211: "(or it may not exist)").

    def chain(self, resource):
        """RESOURCE, then the ancestors whose policies apply to it, up to its project."""
        if resource.startswith("projects/_/buckets/"):
            bucket = resource.split("/")[3]
            bucket_resource = "projects/_/buckets/%s" % bucket
            number = (self.state["buckets"].get(bucket) or {}).get("projectNumber")
            sources = re.match(r"gcf-v2-sources-(\d+)-", bucket)
            number = number or (sources.group(1) if sources else DEFAULT_PROJECT_NUMBER)
            up = [bucket_resource] if resource != bucket_resource else []
            return [resource] + up + ["projects/%s" % self.state.project_id_for(str(number))]
        m = re.match(r"projects/([^/]+)", resource)
        project = "projects/%s" % self.state.project_id_for(m.group(1))
        return [resource] if resource == project else [resource, project]

    def check(self, permission, resource, member=None, by=None):
        """Records the check; returns the granting bindings (empty: denied)."""
        member = member or self.member
        unrecognised = []
        found = iam.grants(self.state.policy, self.state["roles"], member, permission, self.chain(resource), unrecognised)
        record = {"member": member, "permission": permission, "resource": resource, "grantedBy": found}
        if unrecognised:
            # Bindings whose condition reads resource attributes this service does not recognise.
            record["conditionNotRecognised"] = unrecognised
        if by:
            record["by"] = by
        self.checks.append(record)
        return found

    def require(self, permission, resource, member=None, by=None):
        if not self.check(permission, resource, member, by):
            domain = "%s.googleapis.com" % (self.api or "iam")
            raise ApiError(403, iam.denied_message(permission, "//%s/%s" % (domain, resource)), "PERMISSION_DENIED",
                           [iam.error_info(permission, resource, domain)])

    def authorize(self, method, resource):
        """The caller may call METHOD (a discovery name, e.g. pubsub.projects.topics.create) on RESOURCE."""
        for permission in iam.method_permissions(method):
            self.require(permission, resource)

    def act_as(self, account):
        """Naming a service account for something to run as needs iam.serviceAccounts.actAs on it
        (cloud.google.com/iam/docs/service-accounts-actas)."""
        if account:
            self.require("iam.serviceAccounts.actAs", sa_resource(self, account))


def operation(ctx, name, response, response_type, metadata=None, read_with=None):
    """Stores and returns a finished long-running operation. READ_WITH: (method, resource)
    that operations.get of this API checks."""
    op = {"name": name, "done": True, "response": dict(response, **{"@type": response_type})}
    if metadata is not None:
        op["metadata"] = metadata
    ctx.state["operations"][name] = op
    if read_with:
        ctx.state["operationChecks"][name] = list(read_with)
    return op


def op_id(ctx, kind):
    return "operation-%s-%04d" % (kind, ctx.state.next_id("operation"))


# --------------------------------------------------------------------------
# IAM policy helpers shared by every get/setIamPolicy


def get_policy(ctx, resource):
    policy = ctx.state.policy(resource)
    if not policy.get("bindings"):
        policy.pop("bindings", None)
    return policy


def set_policy(ctx, resource):
    new = (ctx.body or {}).get("policy")
    if not isinstance(new, dict):
        raise ApiError(400, "Request contains an invalid argument: policy is required.")
    current = ctx.state.policy(resource)
    if new.get("etag") and new["etag"] != current.get("etag"):
        raise ApiError(409, "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.", "ABORTED")
    if canonical_bindings(new) == canonical_bindings(current):
        result = current  # a no-op: same etag, nothing recorded as changed
    else:
        result = {
            "version": max(int(new.get("version") or 1), 1),
            "etag": base64.b64encode(("etag-%d" % ctx.state.next_id("etag")).encode()).decode(),
            "bindings": [b for b in (new.get("bindings") or []) if b.get("members")],
        }
        if new.get("auditConfigs"):
            result["auditConfigs"] = new["auditConfigs"]
        if any(b.get("condition") for b in result["bindings"]):
            result["version"] = 3
        ctx.state["iamPolicies"][resource] = result
        ctx.changed = True
    result = copy.deepcopy(result)
    if not result.get("bindings"):
        result.pop("bindings", None)
    return result


# --------------------------------------------------------------------------
# Operations of every API


@route("GET", r"/v[0-9a-z]+/((?:projects/[^/]+/(?:locations/[^/]+/)?)?operations/[^/:]+)", "*", "operations.get")
def operations_get(ctx, m):
    # The method an operation is read with depends on the API that made it (recorded then).
    method, resource = ctx.state["operationChecks"].get(m.group(1)) or (None, None)
    if method:
        ctx.authorize(method, resource)
    op = ctx.state["operations"].get(m.group(1))
    if op is None:
        raise not_found("Operation %s" % m.group(1))
    return op


# --------------------------------------------------------------------------
# IAM service accounts


def sa_email(ctx, project, account):
    if "@" in account:
        return account
    # A unique id: look it up.
    for sa in ctx.state["serviceAccounts"].values():
        if sa.get("uniqueId") == account:
            return sa["email"]
    return account


def sa_resource(ctx, account):
    """projects/PROJECT/serviceAccounts/EMAIL for an email, a unique id or a resource name
    (projects/-/serviceAccounts/EMAIL: the project is the account's own)."""
    email = sa_email(ctx, None, account.rsplit("/", 1)[-1])
    known = ctx.state["serviceAccounts"].get(email)
    if known:
        return known["name"]
    domain = email.split("@", 1)[-1]
    if domain.endswith(".iam.gserviceaccount.com"):
        return "projects/%s/serviceAccounts/%s" % (domain.split(".", 1)[0], email)
    number = re.match(r"(\d+)-compute@", email)
    project = ctx.state.project_id_for(number.group(1)) if number else "-"
    return "projects/%s/serviceAccounts/%s" % (project, email)


def camel(path):
    return re.sub(r"_([a-z])", lambda x: x.group(1).upper(), path)
