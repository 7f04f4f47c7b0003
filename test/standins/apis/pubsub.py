"""Pub/Sub v1: topics get, list, create, publish (a publish delivers to the functions it triggers).

Claims:
- A topic name is projects/P/topics/T; creating an existing one is 409 ALREADY_EXISTS.
- A publish to a topic that triggers functions hands each one the event (eventarc.py).
"""

from apis.core import ApiError, existing, route
from apis.eventarc import deliver_event


@route("GET", r"/v1/projects/([^/]+)/topics/([^/:]+)", "pubsub", "topics.get")
def topics_get(ctx, m):
    name = "projects/%s/topics/%s" % m.groups()
    ctx.authorize("pubsub.projects.topics.get", name)
    return existing(ctx, "topics", name, "Resource not found (resource=%s)." % m.group(2))


@route("GET", r"/v1/projects/([^/]+)/topics", "pubsub", "topics.list")
def topics_list(ctx, m):
    ctx.authorize("pubsub.projects.topics.list", "projects/%s" % m.group(1))
    prefix = "projects/%s/topics/" % m.group(1)
    return {"topics": [t for n, t in sorted(ctx.state["topics"].items()) if n.startswith(prefix)]}


@route("PUT", r"/v1/projects/([^/]+)/topics/([^/:]+)", "pubsub", "topics.create", True)
def topics_create(ctx, m):
    name = "projects/%s/topics/%s" % m.groups()
    ctx.authorize("pubsub.projects.topics.create", name)
    if name in ctx.state["topics"]:
        raise ApiError(409, "Resource already exists in the project (resource=%s)." % m.group(2))
    topic = dict(ctx.body or {})
    topic["name"] = name
    ctx.state["topics"][name] = topic
    ctx.changed = True
    return topic


@route("POST", r"/v1/projects/([^/]+)/topics/([^/:]+):publish", "pubsub", "topics.publish")
def topics_publish(ctx, m):
    name = "projects/%s/topics/%s" % m.groups()
    ctx.authorize("pubsub.projects.topics.publish", name)
    existing(ctx, "topics", name, "Resource not found (resource=%s)." % m.group(2))
    messages = (ctx.body or {}).get("messages") or []
    deliveries = []
    for fn_name, function in sorted(ctx.state["functions"].items()):
        if (function.get("eventTrigger") or {}).get("pubsubTopic") == name:
            deliveries.append(deliver_event(ctx, function, "pubsub"))
    ctx.extra["deliveries"] = deliveries
    return {"messageIds": [str(ctx.state.next_id("message")) for _ in messages]}
