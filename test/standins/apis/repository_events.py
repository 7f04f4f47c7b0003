"""What a GitHub or GitLab webhook makes Cloud Build do for a linked (2nd-gen) repository: the
triggers that match an event, and for each the build it starts (config file, substitutions, service
account), or why it cannot. Test plumbing standing in for the provider's webhook: the route is the
stand-in's own, not Google's.

    POST /_standin/v2/projects/P/locations/R/connections/C/repositories/REPO:deliverEvent
    {"push": {"branch": "main", "commitSha": "...", "changedFiles": ["package/x.py"]}}
    {"push": {"tag": "v1.2.0", "commitSha": "..."}}
    {"pullRequest": {"number": 7, "baseBranch": "main", "headBranch": "feature", "commitSha": "...",
                     "changedFiles": [...], "authorIsWriter": false, "description": "...",
                     "comment": {"body": "/gcbrun", "byWriter": true}}}     # comment: the event is that comment
    -> {"builds": [{"trigger", "triggerName", "serviceAccount", "serviceAccountEmail", "filename",
                    "ref", "commitSha", "builtIns": {...}, "substitutions": {...}}],
        "failed": [{"trigger", "reason"}], "skipped": [{"trigger", "reason"}]}

Claims:
- A trigger matches when its repositoryEventConfig.repository is the repository, it is not disabled,
  and its push or pullRequest filter matches: `branch`/`tag` are RE2 regexes searched in the branch or
  tag name (PushFilter, PullRequestFilter: "Regexes matching branches to build", RE2 syntax; Python's
  re for the patterns used here), `invertRegex` inverts; a pull request's branch is its base branch.
- includedFiles/ignoredFiles: "If ignored_files is not empty, then we ignore any files that match any of
  the ignored_file globs. If the change has no files that are outside of the ignored_files globs, then
  we do not trigger a build." "If any of the files altered in the commit pass the ignored_files filter
  and included_files is not empty, then we make sure that at least one of those files matches a
  included_files glob" (BuildTrigger reference); globs are Go's filepath.Match "extended with support
  for **". A change with no files and a non-empty includedFiles starts nothing (stricter reading).
- commentControl (PullRequestFilter.CommentControl): COMMENTS_DISABLED builds every pull request event,
  and a writer's `/gcbrun` comment too; COMMENTS_ENABLED builds a writer's pull request with `/gcbrun`
  in its description, or on a writer's `/gcbrun` comment; COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY
  builds a writer's pull request, and an outside contributor's on a writer's `/gcbrun` comment. A
  comment by someone without write access starts nothing.
- Built-in substitutions of a trigger's build: PROJECT_ID, BUILD_ID, PROJECT_NUMBER, LOCATION, and
  TRIGGER_NAME, COMMIT_SHA, REVISION_ID, SHORT_SHA, REPO_NAME, REPO_FULL_NAME, BRANCH_NAME, TAG_NAME,
  REF_NAME, TRIGGER_BUILD_CONFIG_PATH, SERVICE_ACCOUNT_EMAIL, SERVICE_ACCOUNT; pull-request builds add
  "GitHub-specific" _HEAD_BRANCH, _BASE_BRANCH, _HEAD_REPO_URL, _PR_NUMBER (cloud.google.com/build/docs/
  configuring-builds/substitute-variable-values). GitLab merge requests do not get those four (stricter
  reading of "GitHub-specific"). REPO_NAME and REPO_FULL_NAME come from the repository's remoteUri
  (OWNER/NAME; the page: "the full name of your repository, including either the user or organization").
- Refused as Google would: a repository that is not linked (404), a connection not COMPLETE or
  disabled (no event reaches Cloud Build: 400 FAILED_PRECONDITION); per trigger, a service account that
  does not exist fails that trigger's build. The build fetches the source with a read token: the Cloud
  Build service agent needs cloudbuild.repositories.accessReadToken (roles/cloudbuild.serviceAgent holds
  it), and, stricter reading (no Google page read settles whether the build's own account is checked),
  so does the trigger's service account; for GitLab the agent also reads the read_api token's secret.
"""

import re
import uuid

from apis.core import ApiError, route
from apis import cloud_build_v2 as v2
from apis import cloud_build, secret_manager

EVENT_ROUTE = r"/_standin/v2/projects/([^/]+)/locations/([^/]+)/connections/([^/:]+)/repositories/([^/:]+):deliverEvent"


def glob_regex(pattern):
    """Go's filepath.Match syntax with `**` (any run of characters, `/` included), as a regex."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def matches_any(path, globs):
    return any(glob_regex(g).match(path) for g in globs)


def files_filter(trigger, changed):
    """None when the changed files pass the trigger's includedFiles/ignoredFiles, else why not."""
    ignored, included = trigger.get("ignoredFiles") or [], trigger.get("includedFiles") or []
    if not ignored and not included:
        return None
    passing = [f for f in changed if not matches_any(f, ignored)]
    if ignored and not passing:
        return "no changed file is outside ignoredFiles"
    if included and not any(matches_any(f, included) for f in passing):
        return "no changed file matches includedFiles"
    return None


def ref_filter(pattern, name, invert):
    if pattern is None or name is None:
        return False
    found = re.search(pattern, name) is not None
    return found != bool(invert)


def pull_request_builds(control, event):
    """Whether a pull request event (or a comment on one) starts a build under CONTROL, and why not."""
    comment = event.get("comment")
    writer = bool(event.get("authorIsWriter"))
    control = control or "COMMENTS_DISABLED"
    if comment is not None:
        if "/gcbrun" in (comment.get("body") or "") and comment.get("byWriter"):
            return None
        return "a comment starts a build only when a repository writer writes /gcbrun"
    if control == "COMMENTS_DISABLED":
        return None
    if control == "COMMENTS_ENABLED":
        if writer and "/gcbrun" in (event.get("description") or ""):
            return None
        return "COMMENTS_ENABLED: waits for a writer's /gcbrun comment"
    if control == "COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY":
        if writer:
            return None
        return "COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY: an outside contributor's pull request waits for a writer's /gcbrun comment"
    return "unknown commentControl %s" % control


def event_filter(config, event):
    """None when the trigger's push/pullRequest filter takes EVENT, else why not."""
    if "push" in event:
        push, ev = config.get("push"), event["push"]
        if push is None:
            return "a pull-request trigger does not take a push"
        if ev.get("tag") is not None:
            ok = ref_filter(push.get("tag"), ev["tag"], push.get("invertRegex"))
            return None if ok else "tag %s does not match %r" % (ev["tag"], push.get("tag"))
        ok = ref_filter(push.get("branch"), ev.get("branch"), push.get("invertRegex"))
        return None if ok else "branch %s does not match %r" % (ev.get("branch"), push.get("branch"))
    pull, ev = config.get("pullRequest"), event["pullRequest"]
    if pull is None:
        return "a push trigger does not take a pull request"
    if not ref_filter(pull.get("branch"), ev.get("baseBranch"), pull.get("invertRegex")):
        return "base branch %s does not match %r" % (ev.get("baseBranch"), pull.get("branch"))
    return pull_request_builds(pull.get("commentControl"), ev)


def build_account(ctx, project, trigger):
    """(email, resource name) the build runs as; the project's default when the trigger names none."""
    named = trigger.get("serviceAccount")
    if named:
        email = named.rsplit("/", 1)[-1]
        return email, named
    number = ctx.state.project(project)["projectNumber"]
    email = "%s-compute@developer.gserviceaccount.com" % number
    return email, "projects/%s/serviceAccounts/%s" % (project, email)


def built_ins(ctx, project, location, trigger, repository, connection, event, email, account):
    path = v2.remote_path(connection, repository["remoteUri"])
    values = {
        "PROJECT_ID": project,
        "BUILD_ID": str(uuid.uuid4()),
        "PROJECT_NUMBER": ctx.state.project(project)["projectNumber"],
        "LOCATION": location,
        "TRIGGER_NAME": trigger["name"],
        "REPO_NAME": path.rsplit("/", 1)[-1],
        "REPO_FULL_NAME": path,
        "TRIGGER_BUILD_CONFIG_PATH": trigger.get("filename", ""),
        "SERVICE_ACCOUNT_EMAIL": email,
        "SERVICE_ACCOUNT": account,
        "BRANCH_NAME": "",
        "TAG_NAME": "",
    }
    if "push" in event:
        ev = event["push"]
        values["BRANCH_NAME" if ev.get("tag") is None else "TAG_NAME"] = ev.get("tag") or ev.get("branch")
        sha = ev.get("commitSha", "")
    else:
        ev = event["pullRequest"]
        values["BRANCH_NAME"] = ev.get("headBranch", "")
        sha = ev.get("commitSha", "")
        if "githubConfig" in connection:
            values.update(_HEAD_BRANCH=ev.get("headBranch", ""), _BASE_BRANCH=ev.get("baseBranch", ""),
                          _HEAD_REPO_URL=ev.get("headRepoUrl") or repository["remoteUri"], _PR_NUMBER=str(ev.get("number", "")))
    values["REF_NAME"] = values["TAG_NAME"] or values["BRANCH_NAME"]
    values.update(COMMIT_SHA=sha, REVISION_ID=sha, SHORT_SHA=sha[:7])
    return values


def start_failure(ctx, project, repository, connection, trigger, email):
    """Why the trigger's build cannot start (its account, the source fetch), or None."""
    if trigger.get("serviceAccount") and email not in ctx.state["serviceAccounts"]:
        return "service account %s does not exist" % email
    if (ctx.state["serviceAccounts"].get(email) or {}).get("disabled"):
        return "service account %s is disabled" % email
    agent = v2.agent_member(ctx, project)
    reason = v2.read_token_denial(ctx, repository["name"], agent, "Cloud Build service agent (source fetch)")
    if reason:
        return reason
    if trigger.get("serviceAccount"):
        reason = v2.read_token_denial(ctx, repository["name"], "serviceAccount:" + email, "build (source fetch, stricter reading)")
        if reason:
            return reason
    if "gitlabConfig" in connection:
        read = (connection["gitlabConfig"].get("readAuthorizerCredential") or {}).get("userTokenSecretVersion")
        reason = secret_manager.readable_version(ctx, read, agent, "Cloud Build service agent (source fetch)")
        if reason:
            return "gitlabConfig.readAuthorizerCredential: %s" % reason
    return None


def check_event(event):
    kinds = [k for k in ("push", "pullRequest") if k in event]
    if len(kinds) != 1:
        raise ApiError(400, "An event is one of push or pullRequest (the stand-in's event body, README.md).")
    body = event[kinds[0]]
    if not isinstance(body, dict) or not body.get("commitSha"):
        raise ApiError(400, "%s.commitSha is required." % kinds[0])
    if kinds[0] == "push" and (body.get("branch") is None) == (body.get("tag") is None):
        raise ApiError(400, "push names one of branch or tag.")
    if kinds[0] == "pullRequest" and not body.get("baseBranch"):
        raise ApiError(400, "pullRequest.baseBranch is required.")


@route("POST", EVENT_ROUTE, "standin", "repositories.deliverEvent")
def deliver_event(ctx, m):
    project, location = v2.enter(ctx, m)
    connection_name = "projects/%s/locations/%s/connections/%s" % (project, location, m.group(3))
    name = "%s/repositories/%s" % (connection_name, m.group(4))
    event = ctx.body or {}
    check_event(event)
    repository = v2.existing_repository(ctx, name)
    connection = v2.existing_connection(ctx, connection_name)
    reason = v2.incomplete(connection)
    if reason:
        raise ApiError(400, "No event reaches Cloud Build: %s." % reason, "FAILED_PRECONDITION")
    changed = (event.get("push") or event.get("pullRequest") or {}).get("changedFiles") or []
    result = {"builds": [], "failed": [], "skipped": []}
    prefix = "projects/%s/locations/%s/triggers/" % (project, location)
    for key, trigger in sorted(ctx.state["triggers"].items()):
        config = trigger.get("repositoryEventConfig") or {}
        if not key.startswith(prefix) or config.get("repository") != name:
            continue
        why = "disabled" if trigger.get("disabled") else event_filter(config, event) or files_filter(trigger, changed)
        if why:
            result["skipped"].append({"trigger": trigger["name"], "reason": why})
            continue
        email, account = build_account(ctx, project, trigger)
        failure = start_failure(ctx, project, repository, connection, trigger, email)
        if failure:
            result["failed"].append({"trigger": trigger["name"], "reason": "Failed to trigger build: %s" % failure})
            continue
        values = built_ins(ctx, project, location, trigger, repository, connection, event, email, account)
        result["builds"].append({
            "trigger": trigger["resourceName"], "triggerName": trigger["name"], "serviceAccount": account,
            "serviceAccountEmail": email, "filename": trigger.get("filename"), "commitSha": values["COMMIT_SHA"],
            "ref": values["REF_NAME"], "builtIns": values, "substitutions": dict(trigger.get("substitutions") or {}),
            "id": cloud_build.record_build(ctx, project, location, trigger, account, values),
        })
    ctx.extra["delivery"] = result
    return result
