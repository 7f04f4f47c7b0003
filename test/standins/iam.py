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


# IAM Conditions. A condition may read the resource's service, type and name only where
# Google's list says the service and resource type recognise them (iam_conditions.json, with
# its source and the date it was read); elsewhere a condition that reads one grants nothing
# (stricter reading: the page says only that other services "do not recognize" them).
with open(os.path.join(HERE, "iam_conditions.json"), encoding="utf-8") as _f:
    CONDITIONS = json.load(_f)


def resource_attributes(permission, resource):
    """{"service", "type", "name"} that a condition sees when PERMISSION is checked on RESOURCE,
    or None where Google's list says the service or type does not recognise resource attributes."""
    service = "%s.googleapis.com" % permission.split(".", 1)[0]
    if service not in CONDITIONS["services"]:
        return None
    if service == "storage.googleapis.com" and re.fullmatch(r"projects/_/buckets/[^/]+", resource):
        kind = "storage.googleapis.com/Bucket"
    elif service == "storage.googleapis.com" and re.fullmatch(r"projects/_/buckets/[^/]+/objects/.+", resource):
        kind = "storage.googleapis.com/Object"
    else:
        return None  # a listed service, but a type the stand-ins do not model
    return {"service": service, "type": kind, "name": resource}


# The forms evaluated, joined with && or ||; anything else is false, as Google treats a
# condition that does not evaluate to true:
#   resource.name == "N"   resource.name.startsWith("P")   resource.type == "T"   resource.service == "S"
_STRING = r"""(?:"([^"]*)"|'([^']*)')"""
_TERM = re.compile(r"\s*resource\.(name|type|service)\s*(?:==\s*%s|\.startsWith\(\s*%s\s*\))\s*\Z" % (_STRING, _STRING))
_READS_RESOURCE = re.compile(r"\bresource\.(name|type|service)\b")


def reads_resource_attributes(expression):
    return bool(_READS_RESOURCE.search(expression or ""))


def condition_holds(expression, attributes):
    """Whether EXPRESSION holds for a resource whose attributes a condition sees (resource_attributes);
    with ATTRIBUTES None, no condition that reads them holds."""
    if attributes is None and reads_resource_attributes(expression):
        return False
    for alternative in expression.split("||"):
        ok = True
        for term in alternative.split("&&"):
            m = _TERM.match(term)
            if not m:
                ok = False
                break
            value = attributes[m.group(1)]
            equals = m.group(2) if m.group(2) is not None else m.group(3)
            prefix = m.group(4) if m.group(4) is not None else m.group(5)
            ok = value == equals if equals is not None else value.startswith(prefix)
            if not ok:
                break
        if ok:
            return True
    return False


def grants(policy_of, custom_roles, member, permission, chain, unrecognised=None):
    """Every binding that grants MEMBER PERMISSION on chain[0], looking at the policy of
    each resource in CHAIN (the resource, then its ancestors up to the project), as IAM
    inherits bindings down the hierarchy (cloud.google.com/iam/docs/resource-hierarchy-access-control).
    POLICY_OF(resource) returns a policy dict. Each grant as [resource, role, condition title or ""].
    UNRECOGNISED, a list, collects the bindings that would have granted but for a condition that
    reads resource attributes the checked service does not recognise."""
    found = []
    attributes = resource_attributes(permission, chain[0])
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
            if condition and not condition_holds(condition.get("expression", ""), attributes):
                if unrecognised is not None and attributes is None and reads_resource_attributes(condition.get("expression")):
                    unrecognised.append([resource, binding.get("role"), condition.get("title", "")])
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
