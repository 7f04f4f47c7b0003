#!/usr/bin/env python3
"""One loopback server standing in for the Google APIs that the real gcloud calls.

    python3 test/standins/google_apis.py --data-dir DIR [--port-file FILE]

Point gcloud at it with the environment from gcloud_env.py (every API in
gcloud_env.APIS overridden to http://127.0.0.1:PORT/, credentials disabled).

DIR/state.json   resources (read at start-up, so a restart or a test can seed it)
DIR/requests.jsonl  one JSON line per request, see README.md
DIR/uploads/     function source zips PUT to the URL from generateUploadUrl

Emulated (Google API, path as gcloud sends it):
  Cloud Resource Manager v1  projects get, getIamPolicy, setIamPolicy
  Service Usage v1           services list/get/enable/batchEnable/disable, operations
  Artifact Registry v1       repositories get/list/create/getIamPolicy/setIamPolicy
  IAM v1                     serviceAccounts get/list/create/getIamPolicy/setIamPolicy
  Pub/Sub v1                 topics get/list/create
  Cloud Storage JSON v1      buckets get/list/insert, projects.serviceAccount.get
  Cloud Build v1             triggers get/list/create/patch/delete, defaultServiceAccount
  Cloud Functions v2         functions get/list/create/patch/delete, runtimes,
                             generateUploadUrl (+ the PUT of the zip), get/setIamPolicy
  Cloud Run v1/v2            services get/getIamPolicy/setIamPolicy (for the
                             functions' invoker binding)
  any API                    GET .../operations/ID of an operation made here
Anything else: 404 with a Google error body, a log record with "rpc": null,
and an "UNHANDLED" line on stderr.
"""

import argparse
import base64
import copy
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import uuid
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from standin_http import QuietHandler, RequestLog, make_server, now, serve  # noqa: E402
import iam  # noqa: E402

DEFAULT_PROJECT_NUMBER = "123456789012"
DEFAULT_OWNER = iam.DEFAULT_OWNER

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

    def check(self, permission, resource, member=None, resource_type=None, by=None):
        """Records the check; returns the granting bindings (empty: denied)."""
        member = member or self.member
        found = iam.grants(self.state.policy, self.state["roles"], member, permission, self.chain(resource), resource_type)
        record = {"member": member, "permission": permission, "resource": resource, "grantedBy": found}
        if by:
            record["by"] = by
        self.checks.append(record)
        return found

    def require(self, permission, resource, member=None, resource_type=None, by=None):
        if not self.check(permission, resource, member, resource_type, by):
            domain = "%s.googleapis.com" % (self.api or "iam")
            raise ApiError(403, iam.denied_message(permission, "//%s/%s" % (domain, resource)), "PERMISSION_DENIED",
                           [iam.error_info(permission, resource, domain)])

    def authorize(self, method, resource, resource_type=None):
        """The caller may call METHOD (a discovery name, e.g. pubsub.projects.topics.create) on RESOURCE."""
        for permission in iam.method_permissions(method):
            self.require(permission, resource, resource_type=resource_type)

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
# Cloud Resource Manager


@route("GET", r"/v[13]/projects/([^/:]+)", "cloudresourcemanager", "projects.get")
def projects_get(ctx, m):
    ctx.authorize("cloudresourcemanager.projects.get", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    return ctx.state.project(ctx.state.project_id_for(m.group(1)))


@route("POST", r"/v[13]/projects/([^/:]+):getIamPolicy", "cloudresourcemanager", "projects.getIamPolicy")
def projects_get_iam(ctx, m):
    ctx.authorize("cloudresourcemanager.projects.getIamPolicy", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    project_id = ctx.state.project(ctx.state.project_id_for(m.group(1)))["projectId"]
    return get_policy(ctx, "projects/%s" % project_id)


@route("POST", r"/v[13]/projects/([^/:]+):setIamPolicy", "cloudresourcemanager", "projects.setIamPolicy", True)
def projects_set_iam(ctx, m):
    ctx.authorize("cloudresourcemanager.projects.setIamPolicy", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    project_id = ctx.state.project(ctx.state.project_id_for(m.group(1)))["projectId"]
    return set_policy(ctx, "projects/%s" % project_id)


# --------------------------------------------------------------------------
# Service Usage

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
# Artifact Registry


def repo_name(m):
    return "projects/%s/locations/%s/repositories/%s" % (m.group(1), m.group(2), m.group(3))


def existing_repo(ctx, name):
    return existing(ctx, "repositories", name, "Requested entity was not found.")


REPO = r"/v1/projects/([^/]+)/locations/([^/]+)/repositories/([^/:]+)"


@route("GET", REPO, "artifactregistry", "repositories.get")
def repositories_get(ctx, m):
    ctx.authorize("artifactregistry.projects.locations.repositories.get", repo_name(m))
    return existing_repo(ctx, repo_name(m))


@route("GET", r"/v1/projects/([^/]+)/locations/([^/]+)/repositories", "artifactregistry", "repositories.list")
def repositories_list(ctx, m):
    ctx.authorize("artifactregistry.projects.locations.repositories.list", "projects/%s/locations/%s" % m.groups())
    prefix = "projects/%s/locations/%s/repositories/" % m.groups()
    return {"repositories": [r for n, r in sorted(ctx.state["repositories"].items()) if n.startswith(prefix)]}


@route("POST", r"/v1/projects/([^/]+)/locations/([^/]+)/repositories", "artifactregistry", "repositories.create", True)
def repositories_create(ctx, m):
    ctx.authorize("artifactregistry.projects.locations.repositories.create", "projects/%s/locations/%s" % m.groups())
    repo_id = ctx.q("repositoryId") or (ctx.body or {}).get("repositoryId")
    if not repo_id:
        raise ApiError(400, "repositoryId is required.")
    name = "projects/%s/locations/%s/repositories/%s" % (m.group(1), m.group(2), repo_id)
    if name in ctx.state["repositories"]:
        raise ApiError(409, "the repository already exists")
    repo = dict(ctx.body or {})
    repo.update(name=name, createTime=now(), updateTime=now())
    repo.setdefault("format", "DOCKER")
    if repo.get("mode") in (None, "MODE_UNSPECIFIED"):
        repo["mode"] = "STANDARD_REPOSITORY"
    ctx.state["repositories"][name] = repo
    ctx.changed = True
    op_name = "projects/%s/locations/%s/operations/%s" % (m.group(1), m.group(2), uuid.uuid4())
    return operation(ctx, op_name, repo, "type.googleapis.com/google.devtools.artifactregistry.v1.Repository")


@route("GET", REPO + ":getIamPolicy", "artifactregistry", "repositories.getIamPolicy")
def repositories_get_iam(ctx, m):
    ctx.authorize("artifactregistry.projects.locations.repositories.getIamPolicy", repo_name(m))
    existing_repo(ctx, repo_name(m))
    return get_policy(ctx, repo_name(m))


@route("POST", REPO + ":setIamPolicy", "artifactregistry", "repositories.setIamPolicy", True)
def repositories_set_iam(ctx, m):
    ctx.authorize("artifactregistry.projects.locations.repositories.setIamPolicy", repo_name(m))
    existing_repo(ctx, repo_name(m))
    return set_policy(ctx, repo_name(m))


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


def existing_sa(ctx, project, account):
    return existing(ctx, "serviceAccounts", sa_email(ctx, project, account), "Unknown service account")


SA = r"/v1/projects/([^/]+)/serviceAccounts/([^/:]+)"


@route("GET", SA, "iam", "serviceAccounts.get")
def service_accounts_get(ctx, m):
    ctx.authorize("iam.projects.serviceAccounts.get", sa_resource(ctx, urllib.parse.unquote(m.group(2))))
    return existing_sa(ctx, m.group(1), urllib.parse.unquote(m.group(2)))


@route("GET", r"/v1/projects/([^/]+)/serviceAccounts", "iam", "serviceAccounts.list")
def service_accounts_list(ctx, m):
    project_id = m.group(1)
    ctx.authorize("iam.projects.serviceAccounts.list", "projects/%s" % project_id)
    return {"accounts": [sa for _, sa in sorted(ctx.state["serviceAccounts"].items()) if sa.get("projectId") == project_id]}


@route("POST", r"/v1/projects/([^/]+)/serviceAccounts", "iam", "serviceAccounts.create", True)
def service_accounts_create(ctx, m):
    project_id = m.group(1)
    ctx.authorize("iam.projects.serviceAccounts.create", "projects/%s" % project_id)
    body = ctx.body or {}
    account_id = body.get("accountId") or ""
    if not re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])", account_id) or not 6 <= len(account_id) <= 30:
        raise ApiError(400, "Invalid value for accountId: %r" % account_id)
    email = "%s@%s.iam.gserviceaccount.com" % (account_id, project_id)
    if email in ctx.state["serviceAccounts"]:
        raise ApiError(409, "Service account %s already exists within project projects/%s." % (account_id, project_id))
    unique_id = "1%020d" % ctx.state.next_id("serviceAccount")
    sa = {
        "name": "projects/%s/serviceAccounts/%s" % (project_id, email),
        "projectId": project_id,
        "uniqueId": unique_id,
        "email": email,
        "oauth2ClientId": unique_id,
        "etag": "MDEwMjE5MjA=",
    }
    for key in ("displayName", "description"):
        if (body.get("serviceAccount") or {}).get(key):
            sa[key] = body["serviceAccount"][key]
    ctx.state["serviceAccounts"][email] = sa
    ctx.changed = True
    return sa


@route("POST", SA + ":getIamPolicy", "iam", "serviceAccounts.getIamPolicy")
def service_accounts_get_iam(ctx, m):
    ctx.authorize("iam.projects.serviceAccounts.getIamPolicy", sa_resource(ctx, urllib.parse.unquote(m.group(2))))
    sa = existing_sa(ctx, m.group(1), urllib.parse.unquote(m.group(2)))
    return get_policy(ctx, sa["name"])


@route("POST", SA + ":setIamPolicy", "iam", "serviceAccounts.setIamPolicy", True)
def service_accounts_set_iam(ctx, m):
    ctx.authorize("iam.projects.serviceAccounts.setIamPolicy", sa_resource(ctx, urllib.parse.unquote(m.group(2))))
    sa = existing_sa(ctx, m.group(1), urllib.parse.unquote(m.group(2)))
    return set_policy(ctx, sa["name"])


@route("DELETE", SA, "iam", "serviceAccounts.delete", True)
def service_accounts_delete(ctx, m):
    resource = sa_resource(ctx, urllib.parse.unquote(m.group(2)))
    ctx.authorize("iam.projects.serviceAccounts.delete", resource)
    sa = existing_sa(ctx, m.group(1), urllib.parse.unquote(m.group(2)))
    del ctx.state["serviceAccounts"][sa["email"]]
    # Google drops the account's own policy; bindings elsewhere that name it stay, shown as
    # deleted:serviceAccount:...?uid=... (cloud.google.com/iam/docs/service-accounts-delete-undelete).
    ctx.state["iamPolicies"].pop(sa["name"], None)
    member = "serviceAccount:%s" % sa["email"]
    for policy in ctx.state["iamPolicies"].values():
        for binding in policy.get("bindings") or []:
            binding["members"] = [("deleted:%s?uid=%s" % (x, sa["uniqueId"]) if x == member else x) for x in binding.get("members") or []]
    ctx.changed = True
    return {}


# IAM Credentials: a short-lived token of another account (gcloud --impersonate-service-account).
# Needs iam.serviceAccounts.getAccessToken on that account
# (cloud.google.com/iam/docs/create-short-lived-credentials-direct).
@route("POST", r"/v1/projects/([^/]+)/serviceAccounts/([^/:]+):generateAccessToken", "iamcredentials", "serviceAccounts.generateAccessToken")
def generate_access_token(ctx, m):
    account = urllib.parse.unquote(m.group(2))
    resource = sa_resource(ctx, account)
    ctx.authorize("iamcredentials.projects.serviceAccounts.generateAccessToken", resource)
    sa = existing(ctx, "serviceAccounts", sa_email(ctx, None, account), "Not found; Gaia id not found for email %s" % account)
    # Characters that break naive templating, so that a test proves the token is handled as data.
    token = iam.token_for("serviceAccount:%s" % sa["email"], "impersonated&|\\+=")
    return {"accessToken": token, "expireTime": "2099-01-01T00:00:00Z"}


# Permissions a custom role may hold here (gcloud checks a new role's list against it):
# every permission some predefined role in iam_data.json holds.
TESTABLE_PERMISSIONS = tuple(sorted(iam.GRANTABLE))


@route("POST", r"/v1/permissions:queryTestablePermissions", "iam", "permissions.queryTestablePermissions")
def query_testable_permissions(ctx, m):
    ctx.authorize("iam.permissions.queryTestablePermissions", "projects/-")
    return {"permissions": [{"name": p, "stage": "GA", "customRolesSupportLevel": "SUPPORTED"} for p in TESTABLE_PERMISSIONS]}


@route("GET", r"/v1/projects/([^/]+)/roles/([^/:]+)", "iam", "roles.get")
def roles_get(ctx, m):
    name = "projects/%s/roles/%s" % m.groups()
    ctx.authorize("iam.projects.roles.get", name)
    return existing(ctx, "roles", name, "The role named %s was not found." % name)


@route("POST", r"/v1/projects/([^/]+)/roles", "iam", "roles.create", True)
def roles_create(ctx, m):
    ctx.authorize("iam.projects.roles.create", "projects/%s" % m.group(1))
    body = ctx.body or {}
    role_id = body.get("roleId") or ""
    if not re.fullmatch(r"[a-zA-Z0-9_.]{3,64}", role_id):
        raise ApiError(400, "Invalid roleId %r" % role_id)
    name = "projects/%s/roles/%s" % (m.group(1), role_id)
    if name in ctx.state["roles"]:
        raise ApiError(409, "A role named %s in projects/%s already exists." % (role_id, m.group(1)))
    role = dict(body.get("role") or {})
    role["name"] = name
    role["etag"] = "BwW="
    ctx.state["roles"][name] = role
    ctx.changed = True
    return role


@route("PATCH", r"/v1/projects/([^/]+)/roles/([^/:]+)", "iam", "roles.patch", True)
def roles_patch(ctx, m):
    name = "projects/%s/roles/%s" % m.groups()
    ctx.authorize("iam.projects.roles.patch", name)
    role = existing(ctx, "roles", name, "The role named %s was not found." % name)
    updated = dict(role)
    mask = [p for p in (ctx.q("updateMask") or "").split(",") if p] or list((ctx.body or {}).keys())
    for key in mask:
        key = camel(key)
        if key in (ctx.body or {}):
            updated[key] = copy.deepcopy(ctx.body[key])
    if updated != role:
        updated["etag"] = "BwX%d=" % ctx.state.next_id("etag")
        ctx.state["roles"][name] = updated
        ctx.changed = True
    return updated


# --------------------------------------------------------------------------
# Pub/Sub


@route("GET", r"/v1/projects/([^/]+)/topics/([^/:]+)", "pubsub", "topics.get")
def topics_get(ctx, m):
    name = "projects/%s/topics/%s" % m.groups()
    ctx.authorize("pubsub.projects.topics.get", name)
    return existing(ctx, "topics", name, "Resource not found (resource=%s)." % m.group(2))


@route("GET", r"/v1/projects/([^/]+)/topics", "pubsub", "topics.list")
def topics_list(ctx, m):
    ctx.authorize("pubsub.projects.topics.list", "projects/%s" % m.group(1))
    prefix = "projects/%s/topics/" % m.group(1)
    return {"topics": [t for n, t in sorted(ctx.state["topics"].items()) if n.startswith(prefix)]}


@route("PUT", r"/v1/projects/([^/]+)/topics/([^/:]+)", "pubsub", "topics.create", True)
def topics_create(ctx, m):
    name = "projects/%s/topics/%s" % m.groups()
    ctx.authorize("pubsub.projects.topics.create", name)
    if name in ctx.state["topics"]:
        raise ApiError(409, "Resource already exists in the project (resource=%s)." % m.group(2))
    topic = dict(ctx.body or {})
    topic["name"] = name
    ctx.state["topics"][name] = topic
    ctx.changed = True
    return topic


@route("POST", r"/v1/projects/([^/]+)/topics/([^/:]+):publish", "pubsub", "topics.publish")
def topics_publish(ctx, m):
    name = "projects/%s/topics/%s" % m.groups()
    ctx.authorize("pubsub.projects.topics.publish", name)
    existing(ctx, "topics", name, "Resource not found (resource=%s)." % m.group(2))
    messages = (ctx.body or {}).get("messages") or []
    deliveries = []
    for fn_name, function in sorted(ctx.state["functions"].items()):
        if (function.get("eventTrigger") or {}).get("pubsubTopic") == name:
            deliveries.append(deliver_event(ctx, function, "pubsub"))
    ctx.extra["deliveries"] = deliveries
    return {"messageIds": [str(ctx.state.next_id("message")) for _ in messages]}


def deliver_event(ctx, function, source):
    """Eventarc's push of one event to a function, with the checks Google makes:
    - the Pub/Sub service agent mints an OIDC token for the trigger's service account; a
      project created on or before 2021-04-08 must grant that agent
      roles/iam.serviceAccountTokenCreator (cloud.google.com/eventarc/docs/run/create-trigger-pubsub-gcloud);
    - events of other sources than Pub/Sub (Cloud Storage) need the trigger account to hold
      roles/eventarc.eventReceiver (cloud.google.com/eventarc/docs/access-control);
    - the push invokes the function's Cloud Run service as the trigger account: run.routes.invoke
      on that service (cloud.google.com/functions/docs/securing/authenticating#event-driven)."""
    trigger = function["eventTrigger"]
    account = trigger.get("serviceAccountEmail") or ""
    member = "serviceAccount:%s" % account
    project_id = function["name"].split("/")[1]
    project = ctx.state.project(project_id)
    checks = []
    if project["createTime"][:10] <= "2021-04-08":
        agent = "serviceAccount:service-%s@gcp-sa-pubsub.iam.gserviceaccount.com" % project["projectNumber"]
        checks.append(("iam.serviceAccounts.getOpenIdToken", sa_resource(ctx, account), agent, None))
    if source != "pubsub":
        checks.append(("eventarc.events.receiveEvent", "projects/%s" % project_id, member, None))
    service = function["serviceConfig"]["service"]
    checks.append(("run.routes.invoke", service, member, "run.googleapis.com/Service"))
    for permission, resource, who, resource_type in checks:
        if not ctx.check(permission, resource, who, resource_type, by="event delivery"):
            return {"function": function["name"], "status": 403, "message": iam.denied_message(permission, resource), "member": who}
    return {"function": function["name"], "status": 200, "member": member}


# --------------------------------------------------------------------------
# Cloud Storage (JSON API)


def bucket_resource(name, seeded):
    bucket = {
        "kind": "storage#bucket",
        "id": name,
        "name": name,
        "selfLink": "https://www.googleapis.com/storage/v1/b/%s" % name,
        "projectNumber": DEFAULT_PROJECT_NUMBER,
        "location": "US",
        "locationType": "multi-region",
        "storageClass": "STANDARD",
        "timeCreated": "2026-01-01T00:00:00.000Z",
        "updated": "2026-01-01T00:00:00.000Z",
        "metageneration": "1",
        "etag": "CAE=",
    }
    bucket.update(seeded or {})
    return bucket


@route("GET", r"/storage/v1/b/([^/]+)", "storage", "buckets.get")
def buckets_get(ctx, m):
    name = m.group(1)
    # Bucket names are global: Cloud Storage answers 404 for a bucket that exists nowhere,
    # whoever asks. The dataset lists storage.buckets.getIamPolicy too, which Google checks
    # only for projection=full; gcloud storage buckets describe reads the default projection.
    if name not in ctx.state["buckets"]:
        raise ApiError(404, "The specified bucket does not exist.")
    ctx.require("storage.buckets.get", "projects/_/buckets/%s" % name)
    return bucket_resource(name, ctx.state["buckets"][name])


@route("GET", r"/storage/v1/b", "storage", "buckets.list")
def buckets_list(ctx, m):
    ctx.require("storage.buckets.list", "projects/%s" % ctx.state.project_id_for(ctx.q("project") or "p"))
    return {"kind": "storage#buckets", "items": [bucket_resource(n, b) for n, b in sorted(ctx.state["buckets"].items())]}


@route("POST", r"/storage/v1/b", "storage", "buckets.insert", True)
def buckets_insert(ctx, m):
    ctx.authorize("storage.buckets.insert", "projects/%s" % ctx.state.project_id_for(ctx.q("project") or "p"))
    body = ctx.body or {}
    name = body.get("name")
    if not name:
        raise ApiError(400, "Required: name")
    if name in ctx.state["buckets"]:
        raise ApiError(409, "Your previous request to create the named bucket succeeded and you already own it.")
    seeded = {k: v for k, v in body.items() if k in ("location", "storageClass", "labels", "iamConfiguration")}
    if "location" in seeded:
        seeded["location"] = seeded["location"].upper()
        if seeded["location"] not in ("US", "EU", "ASIA"):
            seeded["locationType"] = "dual-region" if "+" in seeded["location"] else "region"
    seeded["projectNumber"] = ctx.state.project(ctx.q("project") or "p")["projectNumber"]
    ctx.state["buckets"][name] = seeded
    ctx.changed = True
    return bucket_resource(name, seeded)


@route("GET", r"/storage/v1/projects/([^/]+)/serviceAccount", "storage", "projects.serviceAccount.get")
def storage_service_agent(ctx, m):
    # `gcloud storage service-agent`: the project's Cloud Storage service agent (Google
    # creates it on this first call; its email names the project number).
    ctx.authorize("storage.projects.serviceAccount.get", "projects/%s" % ctx.state.project_id_for(m.group(1)))
    project = ctx.state.project(ctx.state.project_id_for(m.group(1)))
    return {"kind": "storage#serviceAccount",
            "email_address": "service-%s@gs-project-accounts.iam.gserviceaccount.com" % project["projectNumber"]}


@route("POST", r"/upload/storage/v1/b/([^/]+)/o", "storage", "objects.insert", True)
def objects_insert(ctx, m):
    """A simple (media) upload; a bucket that triggers functions sends them the event."""
    bucket, name = m.group(1), ctx.q("name") or ""
    ctx.require("storage.objects.create", "projects/_/buckets/%s/objects/%s" % (bucket, name))
    if bucket not in ctx.state["buckets"]:
        raise ApiError(404, "The specified bucket does not exist.")
    deliveries = []
    for fn_name, function in sorted(ctx.state["functions"].items()):
        filters = (function.get("eventTrigger") or {}).get("eventFilters") or []
        if {"attribute": "bucket", "value": bucket} in filters:
            # Cloud Storage's service agent publishes the notification to Eventarc's topic, which
            # needs pubsub.topics.publish (cloud.google.com/eventarc/docs/run/create-trigger-storage-gcloud).
            number = ctx.state.project(function["name"].split("/")[1])["projectNumber"]
            agent = "serviceAccount:service-%s@gs-project-accounts.iam.gserviceaccount.com" % number
            topic = "projects/%s/topics/eventarc-%s" % (function["name"].split("/")[1], function["name"].split("/")[-1])
            if not ctx.check("pubsub.topics.publish", topic, agent, by="event delivery"):
                deliveries.append({"function": function["name"], "status": 403, "member": agent,
                                   "message": iam.denied_message("pubsub.topics.publish", topic)})
                continue
            deliveries.append(deliver_event(ctx, function, "storage"))
    ctx.extra["deliveries"] = deliveries
    ctx.changed = True
    return {"kind": "storage#object", "bucket": bucket, "name": name}


# --------------------------------------------------------------------------
# Cloud Logging: what a build that runs as a user-specified account writes with
# logging CLOUD_LOGGING_ONLY (cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts).


@route("POST", r"/v2/entries:write", "logging", "entries.write")
def entries_write(ctx, m):
    names = {(e.get("logName") or (ctx.body or {}).get("logName") or "") for e in (ctx.body or {}).get("entries") or [{}]}
    for log_name in sorted(names) or [""]:
        project = re.match(r"projects/([^/]+)/logs/", log_name)
        if not project:
            raise ApiError(400, "logName is required: projects/PROJECT/logs/LOG.")
        ctx.authorize("logging.entries.write", "projects/%s" % ctx.state.project_id_for(project.group(1)))
    return {}


# --------------------------------------------------------------------------
# Cloud Build


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


# --------------------------------------------------------------------------
# Cloud Functions v2 (and the Cloud Run service behind each function)

FUNCTIONS = r"/v2/projects/([^/]+)/locations/([^/]+)/functions"
FUNCTION = FUNCTIONS + r"/([^/:]+)"


def function_name(m):
    return "projects/%s/locations/%s/functions/%s" % (m.group(1), m.group(2), m.group(3))


def existing_function(ctx, name):
    return existing(ctx, "functions", name, "Resource '%s' was not found" % name)


def camel(path):
    return re.sub(r"_([a-z])", lambda x: x.group(1).upper(), path)


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
    ctx.state["runServices"][service["service"]] = {"name": service["service"], "uri": service["uri"], "function": name}
    return function


def check_event_trigger(ctx, trigger, location):
    """Google creates a missing trigger topic but needs an existing bucket."""
    if not trigger:
        return
    topic = trigger.get("pubsubTopic")
    if topic and topic not in ctx.state["topics"]:
        ctx.state["topics"][topic] = {"name": topic}
    for event_filter in trigger.get("eventFilters") or []:
        if event_filter.get("attribute") == "bucket" and event_filter.get("value") not in ctx.state["buckets"]:
            raise ApiError(400, "Cannot create a storage trigger: bucket %s does not exist." % event_filter.get("value"),
                           "FAILED_PRECONDITION")


# --------------------------------------------------------------------------
# The function's build (opt-in: --function-builds CREDENTIAL). Google builds a Python
# function with its Python buildpack, which installs requirements.txt. Modelled here:
# which installer the buildpack picks, and whether that installer gets the Artifact
# Registry credentials of the build's service account. GoogleCloudPlatform/buildpacks,
# pkg/python/requirements.go and python.go: with GOOGLE_PYTHON_PACKAGE_MANAGER unset,
# isUVDefaultPackageManagerForRequirements picks uv for Python >= 3.14 and pip below;
# the variable, when set, decides. Only the pip path calls ar.GeneratePythonConfig,
# which writes a .netrc for the *-python.pkg.dev hosts with the build account's token;
# the uv path writes none (buildpacks issue 681). The install itself is pip here in
# both cases (no uv on this machine), run as `pip download` of requirements.txt: what
# matters is the credential, which only the pip path hands over. Credentials written
# into requirements.txt itself (token mode) work on both paths, as with Google.


def python_installer(build_config):
    chosen = ((build_config or {}).get("environmentVariables") or {}).get("GOOGLE_PYTHON_PACKAGE_MANAGER")
    if chosen:
        return chosen.lower()
    match = re.fullmatch(r"python(\d)(\d+)", (build_config or {}).get("runtime") or "")
    return "uv" if match and (int(match.group(1)), int(match.group(2))) >= (3, 14) else "pip"


def install_requirements(ctx, function):
    """Installs the uploaded source's requirements as the buildpack would; returns an error message or None."""
    credential = ctx.handler.server.function_builds
    build_config = function.get("buildConfig") or {}
    obj = ((build_config.get("source") or {}).get("storageSource") or {}).get("object")
    if credential is None or not obj:
        return None
    zip_path = os.path.join(ctx.handler.server.data_dir, "uploads", obj)
    installer = python_installer(build_config)
    record = {"installer": installer, "credentials": installer == "pip", "downloaded": [], "status": None}
    ctx.extra["functionBuild"] = record
    with tempfile.TemporaryDirectory() as work:
        with zipfile.ZipFile(zip_path) as z:
            if "requirements.txt" not in z.namelist():
                record["status"] = 0
                return None
            z.extract("requirements.txt", work)
        requirements = os.path.join(work, "requirements.txt")
        with open(requirements, encoding="utf-8") as f:
            hosts = sorted({urllib.parse.urlsplit(u).hostname for u in re.findall(r"--(?:extra-)?index-url\s+(\S+)", f.read())} - {None})
        home = os.path.join(work, "home")
        os.makedirs(home)
        if installer == "pip":
            with open(os.path.join(home, ".netrc"), "w", encoding="utf-8") as f:
                for host in hosts:
                    f.write("machine %s login oauth2accesstoken password %s\n" % (host, credential))
        env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "PIP_CONFIG_FILE": os.devnull,
               "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
               "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
        dest = os.path.join(work, "downloaded")
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-cache-dir", "--retries", "0", "--timeout", "10",
             "-d", dest, "-r", requirements],
            env=env, capture_output=True, text=True, timeout=120,
        )
        record["status"] = result.returncode
        record["downloaded"] = sorted(os.listdir(dest)) if os.path.isdir(dest) else []
        record["sha256"] = {}
        for name in record["downloaded"]:
            with open(os.path.join(dest, name), "rb") as f:
                record["sha256"][name] = hashlib.sha256(f.read()).hexdigest()
        if result.returncode != 0:
            tail = " ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            record["output"] = tail
            return "installing requirements.txt with %s failed: %s" % (installer, tail)
    return None


def install_failed(ctx, function):
    """After the build's IAM checks: the install of requirements.txt, which fails the build as they do."""
    if function.get("state") == "FAILED":
        return
    error = install_requirements(ctx, function)
    if error:
        function["state"] = "FAILED"
        function["stateMessages"] = [{"severity": "ERROR", "type": "BuildFailed", "message": error}]


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


def build_function(ctx, function, project, location, function_id):
    """The function's build, which Cloud Build runs as buildConfig.serviceAccount. A
    user-specified build account needs (cloud.google.com/functions/docs/securing/build-custom-sa):
    writing logs, reading the uploaded source from the gcf-v2-sources bucket, and pushing the
    image to gcf-artifacts in the function's region. The stand-in checks exactly these; a
    denied one fails the build (the operation's error), not the call. Reading the private
    Python repository during the build is pip's, checked by pypi_index.py."""
    number = ctx.state.project(project)["projectNumber"]
    account = (function.get("buildConfig") or {}).get("serviceAccount")
    if not account:
        # The project's default build account: projects get it with the roles it needs
        # (or Editor, in older projects); only a user-specified account is checked.
        return
    member = "serviceAccount:%s" % account.rsplit("/", 1)[-1]
    images = "projects/%s/locations/%s/repositories/gcf-artifacts" % (project, location)
    for permission, resource, resource_type in (
        ("logging.logEntries.create", "projects/%s" % project, None),
        ("storage.objects.get", "projects/_/buckets/gcf-v2-sources-%s-%s/objects/%s/function-source.zip" % (number, location, function_id),
         "storage.googleapis.com/Object"),
        ("artifactregistry.repositories.uploadArtifacts", images, "artifactregistry.googleapis.com/Repository"),
    ):
        if not ctx.check(permission, resource, member, resource_type, by="function build"):
            function["state"] = "FAILED"
            function["stateMessages"] = [{"severity": "ERROR", "type": "BuildFailed", "message": iam.denied_message(permission, resource)}]
            return
    function.pop("stateMessages", None)
    # Cloud Functions creates gcf-artifacts on the first build in a region.
    if images not in ctx.state["repositories"]:
        ctx.state["repositories"][images] = {"name": images, "format": "DOCKER", "mode": "STANDARD_REPOSITORY", "createTime": now()}


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
    install_failed(ctx, function)
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
    install_failed(ctx, updated)
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


RUN_SERVICE = r"/(?:apis/serving\.knative\.dev/)?v[12]/projects/([^/]+)/locations/([^/]+)/services/([^/:]+)"


def run_service_name(m):
    return "projects/%s/locations/%s/services/%s" % m.groups()


def existing_run_service(ctx, m):
    return existing(
        ctx, "runServices", run_service_name(m),
        "Resource '%s' of kind 'SERVICE' in region '%s' in project '%s' does not exist." % (m.group(3), m.group(2), m.group(1)),
    )


@route("GET", RUN_SERVICE, "run", "services.get")
def run_services_get(ctx, m):
    ctx.authorize("run.projects.locations.services.get", run_service_name(m), "run.googleapis.com/Service")
    service = existing_run_service(ctx, m)
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": m.group(3), "namespace": ctx.state.project(m.group(1))["projectNumber"]},
        "status": {"url": service["uri"], "conditions": [{"type": "Ready", "status": "True"}]},
    }


@route("GET", RUN_SERVICE + r":getIamPolicy", "run", "services.getIamPolicy")
@route("POST", RUN_SERVICE + r":getIamPolicy", "run", "services.getIamPolicy")
def run_services_get_iam(ctx, m):
    ctx.authorize("run.projects.locations.services.getIamPolicy", run_service_name(m), "run.googleapis.com/Service")
    existing_run_service(ctx, m)
    return get_policy(ctx, run_service_name(m))


@route("POST", RUN_SERVICE + r":setIamPolicy", "run", "services.setIamPolicy", True)
def run_services_set_iam(ctx, m):
    ctx.authorize("run.projects.locations.services.setIamPolicy", run_service_name(m), "run.googleapis.com/Service")
    existing_run_service(ctx, m)
    return set_policy(ctx, run_service_name(m))


# --------------------------------------------------------------------------
# HTTP


def zip_members(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return sorted(z.namelist())
    except zipfile.BadZipFile:
        return None


class Handler(QuietHandler):
    server_version = "google-apis-standin/1"

    def caller(self):
        """The principal the request's bearer token names (iam.member_of), or None."""
        header = self.headers.get("Authorization") or ""
        if not header.lower().startswith("bearer "):
            return None
        return iam.member_of(header[7:].strip())

    def handle_any(self):
        raw = self.read_body()
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        body = None
        if raw and "json" in (self.headers.get("Content-Type") or "json") and not path.startswith("/upload/"):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        record = {
            "ts": now(),
            "method": self.command,
            "path": path,
            "query": {k: (v[0] if len(v) == 1 else v) for k, v in query.items()},
            "body": body,
            "api": None,
            "rpc": None,
            "mutating": False,
            "changed": False,
        }
        if raw and body is None:
            record["bodyBytes"] = len(raw)
        status, payload = 404, None
        for method, pattern, api, rpc, mutating, fn in ROUTES:
            if method != self.command:
                continue
            m = pattern.match(path)
            if not m:
                continue
            record.update(api=api, rpc=rpc, mutating=mutating)
            state = self.server.state
            member = self.caller()
            record["identity"] = member
            with state.lock:
                ctx = Context(self, state, query, body, raw, api, member)
                snapshot = json.dumps(state.data, sort_keys=True)
                try:
                    # Every Google API answers 401 to a call without credentials; the upload URL is
                    # a signed URL, which carries its own authorisation.
                    if member is None and rpc != "upload.put":
                        raise ApiError(401, UNAUTHENTICATED, "UNAUTHENTICATED")
                    payload = fn(ctx, m)
                    status = 200
                except ApiError as error:
                    status, payload = error.code, error.body()
                    state.data = json.loads(snapshot)  # a failed call changes nothing
                    ctx.changed = False
                else:
                    if json.dumps(state.data, sort_keys=True) != snapshot:
                        state.save()
                record["changed"] = bool(ctx.changed)
                if ctx.checks:
                    record["iam"] = ctx.checks
                record.update(ctx.extra)
            if rpc == "upload.put":
                record["upload"] = {"size": len(raw), "zipMembers": zip_members(raw)}
            break
        else:
            payload = {"error": {"code": 404, "message": "The stand-in has no route for %s %s" % (self.command, path), "status": "NOT_FOUND"}}
            sys.stderr.write("UNHANDLED %s %s\n" % (self.command, self.path))
        record["status"] = status
        self.server.log.write(record)
        data = json.dumps(payload).encode("utf-8")
        self.send_bytes(status, data, "application/json; charset=UTF-8")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", help="write the chosen port to this file once listening")
    parser.add_argument("--data-dir", required=True, help="state.json, requests.jsonl and uploads/")
    parser.add_argument("--function-builds", metavar="CREDENTIAL",
                        help="model each function build's install of requirements.txt; CREDENTIAL is what the "
                             "buildpack's pip path writes to .netrc for the repository hosts")
    args = parser.parse_args(argv)
    os.makedirs(args.data_dir, exist_ok=True)
    server = make_server(Handler)
    server.data_dir = args.data_dir
    server.function_builds = args.function_builds
    server.state = State(os.path.join(args.data_dir, "state.json"))
    server.log = RequestLog(os.path.join(args.data_dir, "requests.jsonl"))
    return serve(server, "google_apis", args.port_file)


if __name__ == "__main__":
    sys.exit(main())
