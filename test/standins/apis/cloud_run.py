"""Cloud Run v1/v2: services get, getIamPolicy, setIamPolicy, and a request to a service's URL.

Claims:
- A 2nd gen function's Cloud Run service is a resource with its own allow policy, which gcloud
  reads and writes with Cloud Run v1 GET .../services/S:getIamPolicy and POST :setIamPolicy, for
  `gcloud functions add-invoker-policy-binding` and `remove-invoker-policy-binding` (after two
  functions.get), `gcloud run services add-iam-policy-binding`, `remove-iam-policy-binding` and
  `get-iam-policy` (with options.requestedPolicyVersion=3), and `gcloud functions deploy
  --[no-]allow-unauthenticated` (command_lib/functions/v2/deploy/command.py); seen by running
  gcloud 528 against this stand-in (test_google_apis.py).
- These methods check run.services.getIamPolicy / setIamPolicy (iam_data.json) on the service or
  the project; a project-level binding conditioned on the service's name grants nothing, as Cloud
  Run does not recognise resource attributes (iam_conditions.json).
- A request to the service needs run.routes.invoke (roles/run.invoker) on it, from its own policy
  or the project's; allUsers holding it makes the service public, and a request without any token
  then passes (cloud.google.com/run/docs/authenticating/public). Denied: 403. The stand-in's
  route for such a request is its own: ANY /invoke/projects/P/locations/R/services/S, with an
  optional bearer token.
"""

from apis.core import ApiError, existing, get_policy, route, set_policy


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
    ctx.authorize("run.projects.locations.services.get", run_service_name(m))
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
    ctx.authorize("run.projects.locations.services.getIamPolicy", run_service_name(m))
    existing_run_service(ctx, m)
    return get_policy(ctx, run_service_name(m))


@route("POST", RUN_SERVICE + r":setIamPolicy", "run", "services.setIamPolicy", True)
def run_services_set_iam(ctx, m):
    ctx.authorize("run.projects.locations.services.setIamPolicy", run_service_name(m))
    existing_run_service(ctx, m)
    return set_policy(ctx, run_service_name(m))


@route("GET", r"/invoke/projects/([^/]+)/locations/([^/]+)/services/([^/:]+)", "run", "services.invoke")
@route("POST", r"/invoke/projects/([^/]+)/locations/([^/]+)/services/([^/:]+)", "run", "services.invoke")
def run_services_invoke(ctx, m):
    """A request to the service's URL, as the caller's token names (or nobody, without one)."""
    name = run_service_name(m)
    service = ctx.state["runServices"].get(name)
    if service is None:
        raise ApiError(404, "The requested URL was not found on this server.")
    if not ctx.check("run.routes.invoke", name):  # no token: only allUsers grants
        raise ApiError(403, "Your client does not have permission to get URL / from this server.", "PERMISSION_DENIED")
    return {"function": service.get("function"), "invokedBy": ctx.member or "allUsers"}
