"""IAM v1 (service accounts, custom roles, testable permissions) and IAM Credentials v1.

Claims:
- A deleted account's own policy goes; bindings elsewhere that name it show as
  deleted:serviceAccount:EMAIL?uid=ID (cloud.google.com/iam/docs/service-accounts-delete-undelete).
- generateAccessToken needs iam.serviceAccounts.getAccessToken on the account
  (cloud.google.com/iam/docs/create-short-lived-credentials-direct); the token names it.
- Account ids: 6-30 characters, lowercase letters, digits, hyphens (IAM REST reference).
"""

import copy
import re
import urllib.parse

import iam
from apis.core import ApiError, camel, existing, get_policy, route, sa_email, sa_resource, set_policy


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
