"""Artifact Registry v1: repositories get, list, create, getIamPolicy, setIamPolicy.

Claims:
- A new repository without a format is DOCKER, without a mode STANDARD_REPOSITORY
  (Artifact Registry REST reference, Repository).
- Uploads and downloads of Python packages are pypi_index.py's (the *-python.pkg.dev endpoint
  is not a REST method).
"""

import uuid

from standin_http import now
from apis.core import ApiError, existing, get_policy, operation, route, set_policy


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
