"""Cloud Run v1/v2: services get, getIamPolicy, setIamPolicy (the service behind each 2nd gen function).

Claims:
- gcloud calls Cloud Run's v1 getIamPolicy/setIamPolicy on
  /v1/projects/P/locations/R/services/S for the functions' invoker bindings
  (command_lib/functions/v2/deploy/command.py).
"""

from apis.core import existing, get_policy, route, set_policy


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
