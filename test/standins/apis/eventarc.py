"""Eventarc: the push of one event to a 2nd gen function, with the checks Google makes.

Claims in deliver_event's docstring, each with its source.
"""

import iam
from apis.core import sa_resource


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
