"""Eventarc: the push of one event to a 2nd gen function, with the checks Google makes.

Claims:
- Pub/Sub pushes the event with an OIDC token of the trigger's service account, which the
  Pub/Sub service agent (service-NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com) mints: it needs
  iam.serviceAccounts.getOpenIdToken on that account, which roles/iam.serviceAccountTokenCreator
  and roles/pubsub.serviceAgent hold (iam_data.json). gcloud functions deploy accepts either role
  on the agent in the project policy (command_lib/functions/v2/deploy_util.py
  ensure_pubsub_sa_has_token_creator_role -> api_lib/functions/v2/util.py
  PromptToBindRoleIfMissing, alt_roles=['roles/pubsub.serviceAgent']). An agent created on or
  before 2021-04-08 lacks it and must be granted the Token Creator role
  (cloud.google.com/eventarc/docs/run/create-trigger-pubsub-gcloud#before-you-begin); a newer
  agent holds roles/pubsub.serviceAgent, which Google grants when it creates the agent
  (cloud.google.com/iam/docs/service-agents: "When the service agent is created, Google grants
  this role automatically"; the stand-in creates it when the Pub/Sub API is enabled,
  service_usage.py). The stand-in checks the permission, not the project's creation date.
- Events of other sources than Pub/Sub (Cloud Storage) need the trigger account to receive
  events: eventarc.events.receiveEvent, roles/eventarc.eventReceiver
  (cloud.google.com/eventarc/docs/run/create-trigger-storage-gcloud).
- The push invokes the function's Cloud Run service as the trigger account: run.routes.invoke on
  that service, from the service's own policy or the project's
  (cloud.google.com/eventarc/docs/run/create-trigger-pubsub-gcloud); a project-level binding
  conditioned on the service's name grants nothing, as Cloud Run does not recognise resource
  attributes (iam_conditions.json).
- A function whose build failed has no service: its events go nowhere.
"""

import iam
from apis.core import sa_resource


def pubsub_agent(number):
    return "serviceAccount:service-%s@gcp-sa-pubsub.iam.gserviceaccount.com" % number


def deliver_event(ctx, function, source):
    """One event's delivery to FUNCTION: {"function", "status", "member", "message"?} for the log."""
    trigger = function["eventTrigger"]
    account = trigger.get("serviceAccountEmail") or ""
    member = "serviceAccount:%s" % account
    project_id = function["name"].split("/")[1]
    service = function["serviceConfig"]["service"]
    if service not in ctx.state["runServices"]:
        return {"function": function["name"], "status": 404, "member": member,
                "message": "The function's Cloud Run service %s does not exist (its build failed)." % service}
    checks = [("iam.serviceAccounts.getOpenIdToken", sa_resource(ctx, account), pubsub_agent(ctx.state.project(project_id)["projectNumber"]))]
    if source != "pubsub":
        checks.append(("eventarc.events.receiveEvent", "projects/%s" % project_id, member))
    checks.append(("run.routes.invoke", service, member))
    for permission, resource, who in checks:
        if not ctx.check(permission, resource, who, by="event delivery"):
            return {"function": function["name"], "status": 403, "message": iam.denied_message(permission, resource), "member": who}
    return {"function": function["name"], "status": 200, "member": member}
