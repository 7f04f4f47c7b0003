"""Cloud Resource Manager v1/v3: projects get, getIamPolicy, setIamPolicy.

Claims:
- Every project exists (number 123456789012, owner user:owner@example.com) unless state.json
  lists it; listed as null it answers 403 like a project the caller cannot see (AIP-211).
- projects.get checks resourcemanager.projects.get; the policy methods check
  resourcemanager.projects.getIamPolicy / setIamPolicy (iam_data.json, from iam-dataset).
"""

from apis.core import get_policy, route, set_policy


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
