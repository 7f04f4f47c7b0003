"""IAM as the stand-ins enforce it: who calls (the access token), and whether a
binding on the resource or on its project grants the permission Google checks.

Shared by google_apis.py and pypi_index.py. Role definitions and the permission
each REST method checks come from iam_data.json (its "attribution" names the
source: Google's published predefined roles and method permissions).

Tokens. Google's access tokens are opaque; the stand-ins' are not, so that a
test can hand each pipeline the identity it runs as:

    ya29.loopback/MEMBER[/ANYTHING]        e.g. ya29.loopback/serviceAccount:b@p.iam.gserviceaccount.com

MEMBER is an IAM principal as policies write it (user:..., serviceAccount:...).
A token minted by generateAccessToken names the impersonated account.
"""

import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "iam_data.json"), encoding="utf-8") as _f:
    DATA = json.load(_f)

ROLES = DATA["roles"]
METHODS = dict(DATA["methods"])
# Methods the dataset does not list, with the permission Google documents for them:
# entries.write checks logging.logEntries.create (cloud.google.com/logging/docs/access-control);
# queryTestablePermissions needs no permission on any resource (IAM REST reference).
METHODS.setdefault("logging.entries.write", ["logging.logEntries.create"])
METHODS.setdefault("iam.permissions.queryTestablePermissions", [])

# Permissions that some role in the data grants. A method listed with several permissions
# is checked for all of them except those no role grants (the dataset lists, e.g.,
# cloudfunctions.functions.generateUploadUrl, which no predefined role holds: Google checks
# sourceCodeSet, which cloudfunctions.developer holds).
GRANTABLE = {p for role in ROLES.values() for p in role["permissions"]}

# Basic roles are not in the data on purpose (a least-privilege setup never grants them);
# the stand-in's project owner holds roles/owner, which Google defines as every permission
# (cloud.google.com/iam/docs/roles-overview#basic).
ALL = "*"

TOKEN_PREFIX = "ya29.loopback/"


def token_for(member, suffix="token"):
    """The stand-in access token of MEMBER (user:..., serviceAccount:...)."""
    return "%s%s/%s" % (TOKEN_PREFIX, member, suffix)


def member_of(token):
    """The principal a stand-in token names, or None for anything else."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    member = token[len(TOKEN_PREFIX):].split("/", 1)[0]
    return member if re.fullmatch(r"(user|serviceAccount|group):[^\s/]+@[^\s/]+", member) else None


def permissions_of(role, custom_roles):
    if role == "roles/owner":
        return ALL
    if role in ROLES:
        return set(ROLES[role]["permissions"])
    custom = custom_roles.get(role)
    if custom and not custom.get("deleted"):
        return set(custom.get("includedPermissions") or [])
    return set()


def method_permissions(method):
    """What Google checks for a REST method (discovery name), grantable ones only."""
    if method not in METHODS:
        raise KeyError("iam_data.json has no entry for %s" % method)
    return [p for p in METHODS[method] if p in GRANTABLE]


# IAM Conditions: the stand-in evaluates the forms setup-gcp.sh writes, joined with && or ||:
#   resource.name == "NAME"   resource.name.startsWith("PREFIX")   resource.type == "TYPE"
# (cloud.google.com/iam/docs/conditions-resource-attributes). Anything else is false,
# as Google treats a condition that does not evaluate to true.
_TERM = re.compile(r'\s*resource\.(name|type)\s*(==\s*"([^"]*)"|\.startsWith\(\s*"([^"]*)"\s*\))\s*\Z')


def condition_holds(expression, resource, resource_type=None):
    for alternative in expression.split("||"):
        ok = True
        for term in alternative.split("&&"):
            m = _TERM.match(term)
            if not m:
                ok = False
                break
            value = resource if m.group(1) == "name" else (resource_type or "")
            if m.group(3) is not None:
                ok = value == m.group(3)
            else:
                ok = value.startswith(m.group(4))
            if not ok:
                break
        if ok:
            return True
    return False


def grants(policy_of, custom_roles, member, permission, chain, resource_type=None):
    """Every binding that grants MEMBER PERMISSION on chain[0], looking at the policy of
    each resource in CHAIN (the resource, then its ancestors up to the project), as IAM
    inherits bindings down the hierarchy (cloud.google.com/iam/docs/resource-hierarchy-access-control).
    POLICY_OF(resource) returns a policy dict. Each grant as [resource, role, condition title or ""]."""
    found = []
    target = chain[0]
    for resource in chain:
        for binding in (policy_of(resource) or {}).get("bindings") or []:
            members = binding.get("members") or []
            if member not in members and "allUsers" not in members and not (
                "allAuthenticatedUsers" in members and member
            ):
                continue
            held = permissions_of(binding.get("role"), custom_roles)
            if held != ALL and permission not in held:
                continue
            condition = binding.get("condition")
            if condition and not condition_holds(condition.get("expression", ""), target, resource_type):
                continue
            found.append([resource, binding.get("role"), (condition or {}).get("title", "")])
    return found


def denied_message(permission, resource):
    # Google's wording, e.g. "Permission 'resourcemanager.projects.get' denied on resource
    # '//cloudresourcemanager.googleapis.com/projects/123' (or it may not exist)." (AIP-193,
    # AIP-211: a missing resource and a missing permission look the same).
    return "Permission '%s' denied on resource '%s' (or it may not exist)." % (permission, resource)


def error_info(permission, resource, domain):
    """The details entry Google attaches to an IAM 403 (google.rpc.ErrorInfo)."""
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "IAM_PERMISSION_DENIED",
        "domain": domain,
        "metadata": {"permission": permission, "resource": resource},
    }


DEFAULT_OWNER = "user:owner@example.com"


def default_policy(resource):
    """The policy of a resource nobody has set one on: a project has its owner."""
    if re.fullmatch(r"projects/[^/]+", resource):
        return {"version": 1, "etag": "ACAB", "bindings": [{"role": "roles/owner", "members": [DEFAULT_OWNER]}]}
    return {"version": 1, "etag": "ACAB", "bindings": []}


def load_state(path):
    """(policy_of, custom roles) from google_apis.py's state.json (written atomically)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    policies = data.get("iamPolicies") or {}
    return (lambda resource: policies.get(resource) or default_policy(resource)), data.get("roles") or {}
