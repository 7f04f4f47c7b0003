"""Cloud Storage JSON API v1: buckets get, list, insert; the project's service agent; object uploads.

Claims:
- Bucket names are global: a bucket that exists nowhere is 404 to anyone.
- Objects and buckets are named projects/_/buckets/BUCKET[/objects/OBJECT] in IAM
  (cloud.google.com/iam/docs/full-resource-names, Cloud Storage buckets).
- An upload to a bucket that triggers functions sends them the event, through Eventarc's topic,
  which the Cloud Storage service agent publishes to (pubsub.topics.publish;
  cloud.google.com/eventarc/docs/run/create-trigger-storage-gcloud).
"""

import iam
from apis.core import DEFAULT_PROJECT_NUMBER, ApiError, route
from apis.eventarc import deliver_event


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
