"""Cloud Build v2 (2nd-gen repositories): connections to GitHub and GitLab, linked repositories,
their IAM, the operations gcloud waits on, and the browser steps a person takes (test plumbing).

Claims (README.md, "Claims", has the sources in full):
- Paths, bodies and operations as gcloud 528 sends them (surface/builds/connections/create/github.yaml,
  gitlab.yaml, repositories/create.yaml; generated_clients/apis/cloudbuild/v2); seen against this
  stand-in (test_cloud_build_v2.py).
- Permissions: each method checks the one iam_data.json gives (cloudbuild.connections.create, ...
  cloudbuild.repositories.accessReadToken), on the connection or repository, their connection, or the
  project; roles/cloudbuild.connectionAdmin holds what connecting a host needs ("Connect to a GitHub
  repository", 2nd gen: "grant the Cloud Build Connection Admin (roles/cloudbuild.connectionAdmin) role").
- The Cloud Build service agent, service-NUMBER@gcp-sa-cloudbuild.iam.gserviceaccount.com, holds
  roles/cloudbuild.serviceAgent on its project from its creation (cloud.google.com/iam/docs/service-agents:
  "When the service agent is created, Google grants this role automatically"); the stand-in creates it
  at the project's first Cloud Build v2 call (Google: "after you activate and use the API").
- A GitHub connection made without credentials ("the installation process (that requires manual steps
  in a web browser)", `gcloud builds connections create github --help`) starts in PENDING_USER_OAUTH,
  then PENDING_INSTALL_APP, then COMPLETE (InstallationState.Stage); only a COMPLETE connection takes
  repositories ("After doing this, the connection will be in installation state COMPLETE and repositories
  can be added to it"). With --authorizer-token-secret-version and --app-installation-id it is COMPLETE
  at once ("Above command creates the connection in installation state COMPLETE").
- "To create connections using gcloud installation steps, grant the Secret Manager Admin role
  (roles/secretmanager.admin) to the Cloud Build Service Agent" ("Connect to a GitHub repository"): Cloud
  Build keeps the OAuth token it obtains in a secret of the project. Without that role the create is
  refused (stricter reading: the page does not say at which step Google fails, nor its words), as is one
  while the Secret Manager API is disabled ("Enable the Cloud Build and Secret Manager APIs").
- A GitLab connection names three secret versions (api token, read_api token, webhook secret;
  GitLabConfig: all Required); the Cloud Build service agent reads them, so each must exist, be ENABLED,
  and be readable by the agent (secretmanager.versions.access on the secret or project: Google's own
  Terraform examples, for GitHub and GitHub Enterprise connections, grant the agent
  roles/secretmanager.secretAccessor on the secrets a connection names; stricter
  reading: refused at create). InstallationState is "Used for GitHub and GitHub Enterprise based
  connections": a GitLab connection has none.
- Connections and repositories live in a region; the stand-in refuses `global` (gcloud builds triggers
  import --help: "Region must be specified in 2nd gen repo; global is not supported").
- A repository's remoteUri is its https clone URL on the connection's host (repositories create --help:
  "The remote git clone URL", example https://github.com/octocat/Hello-World.git); the stand-in takes
  only https://HOST/PATH.git (stricter reading).
"""

import base64
import re
import uuid

import iam
from standin_http import now
from apis.core import ApiError, get_policy, operation, route, set_policy
from apis import secret_manager

LOCATION = r"/v2/projects/([^/]+)/locations/([^/]+)"
CONNECTIONS = LOCATION + r"/connections"
CONNECTION = CONNECTIONS + r"/([^/:]+)"
REPOSITORIES = CONNECTION + r"/repositories"
REPOSITORY = REPOSITORIES + r"/([^/:]+)"
# connectionId / repositoryId: "Allows alphanumeric characters and any of -._~%!$&'()*+,;=@" (v2 reference).
RESOURCE_ID = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=@-]+\Z")
GITHUB_HOST = "https://github.com"
GITLAB_HOST = "https://gitlab.com"  # GitLabConfig.hostUri: "If not specified, the default value is https://gitlab.com"


def table(state, name):
    return state.data.setdefault(name, {})


def agent_of(ctx, project):
    return "service-%s@gcp-sa-cloudbuild.iam.gserviceaccount.com" % ctx.state.project(project)["projectNumber"]


def agent_member(ctx, project):
    return "serviceAccount:" + agent_of(ctx, project)


def ensure_agent(ctx, project):
    """Creates the Cloud Build service agent at the project's first v2 call, granted its role."""
    created = table(ctx.state, "serviceAgents").setdefault(project, [])
    if "cloudbuild" in created:
        return
    created.append("cloudbuild")
    resource = "projects/%s" % project
    policy = ctx.state.policy(resource)
    policy.setdefault("bindings", []).append({"role": "roles/cloudbuild.serviceAgent", "members": [agent_member(ctx, project)]})
    policy["etag"] = base64.b64encode(("etag-%d" % ctx.state.next_id("etag")).encode()).decode()
    ctx.state["iamPolicies"][resource] = policy
    ctx.changed = True


def check_chain(ctx, permission, chain, member=None, by=None):
    """Context.check over an explicit chain (a repository: itself, its connection, its project)."""
    member = member or ctx.member
    found = iam.grants(ctx.state.policy, ctx.state["roles"], member, permission, chain)
    record = {"member": member, "permission": permission, "resource": chain[0], "grantedBy": found}
    if by:
        record["by"] = by
    ctx.checks.append(record)
    return found


def denied(ctx, permission, resource):
    return ApiError(403, iam.denied_message(permission, "//cloudbuild.googleapis.com/%s" % resource), "PERMISSION_DENIED",
                    [iam.error_info(permission, resource, "cloudbuild.googleapis.com")])


def authorize_chain(ctx, method, chain):
    for permission in iam.method_permissions(method):
        if not check_chain(ctx, permission, chain):
            raise denied(ctx, permission, chain[0])


def connection_chain(name):
    return [name, name.split("/locations/")[0]]


def repository_chain(name):
    connection = name.split("/repositories/")[0]
    return [name] + connection_chain(connection)


def enter(ctx, m):
    """(project id, location) of a v2 path; the agent exists from the first call; no `global`."""
    project = ctx.state.project_id_for(m.group(1))
    ctx.state.project(project)
    ensure_agent(ctx, project)
    return project, m.group(2)


def regional(location):
    if location == "global":
        raise ApiError(400, "Cloud Build connections and repositories are regional: location 'global' is not supported; "
                            "use the region of your triggers (e.g. us-central1).")


def v2_operation(ctx, project, location, response, response_type, verb, target):
    name = "projects/%s/locations/%s/operations/operation-%d-%s" % (project, location, ctx.state.next_id("operation"), uuid.uuid4().hex[:12])
    metadata = {"@type": "type.googleapis.com/google.devtools.cloudbuild.v2.OperationMetadata", "createTime": now(),
                "endTime": now(), "target": target, "verb": verb, "apiVersion": "v2"}
    return operation(ctx, name, response, response_type, metadata,
                     read_with=("cloudbuild.projects.locations.operations.get", "projects/%s" % project))


# --------------------------------------------------------------------------
# Connections


def github_pending_oauth(name, location):
    quoted = name.replace("/", "%252F")
    return {
        "stage": "PENDING_USER_OAUTH",
        "message": "Please log in to https://github.com using a robot account and then follow this link to authorize Cloud Build "
                   "to access that account. After authorization, your GitHub authorization token will be stored in Cloud Secret Manager.",
        "actionUri": "https://accounts.google.com/AccountChooser?continue=https%%3A%%2F%%2Fconsole.cloud.google.com%%2Fm%%2Fgcb%%2Fgithub"
                     "%%2Flocations%%2F%s%%2Foauth_v2%%3Fconnection_name%%3D%s" % (location, quoted),
    }


def github_pending_install(name):
    return {
        "stage": "PENDING_INSTALL_APP",
        "message": "Please finish installing Cloud Build GitHub App by following this link.",
        "actionUri": "https://github.com/apps/google-cloud-build/installations/new?state=%s" % name.replace("/", "%2F"),
    }


def agent_may_keep_secrets(ctx, project):
    """None when the agent may create the secret Cloud Build keeps the OAuth token in, else why not."""
    if "secretmanager.googleapis.com" not in ctx.state["services"].get(project, []):
        return "the Secret Manager API (secretmanager.googleapis.com) is not enabled in project %s" % project
    for permission in ("secretmanager.secrets.create", "secretmanager.versions.add", "secretmanager.secrets.setIamPolicy"):
        if not ctx.check(permission, "projects/%s" % project, member=agent_member(ctx, project), by="Cloud Build service agent"):
            return ("the Cloud Build service agent %s lacks %s on project %s; grant it roles/secretmanager.admin"
                    % (agent_of(ctx, project), permission, project))
    return None


def unreadable(ctx, project, versions):
    """The first reason the agent cannot read one of VERSIONS ({field: version name}), or None."""
    for field, version in versions.items():
        if not version:
            return "%s is required" % field
        reason = secret_manager.readable_version(ctx, version, agent_member(ctx, project), "Cloud Build service agent")
        if reason:
            return "%s: %s" % (field, reason)
    return None


def gitlab_versions(config):
    return {
        "gitlabConfig.authorizerCredential.userTokenSecretVersion": (config.get("authorizerCredential") or {}).get("userTokenSecretVersion"),
        "gitlabConfig.readAuthorizerCredential.userTokenSecretVersion": (config.get("readAuthorizerCredential") or {}).get("userTokenSecretVersion"),
        "gitlabConfig.webhookSecretSecretVersion": config.get("webhookSecretSecretVersion"),
    }


def new_connection(ctx, project, location, connection_id, body):
    name = "projects/%s/locations/%s/connections/%s" % (project, location, connection_id)
    connection = {"name": name, "createTime": now(), "updateTime": now(), "etag": uuid.uuid4().hex, "reconciling": False}
    if body.get("disabled"):
        connection["disabled"] = True
    if "githubConfig" in body:
        config = dict(body.get("githubConfig") or {})
        token = (config.get("authorizerCredential") or {}).get("oauthTokenSecretVersion")
        if token:
            reason = unreadable(ctx, project, {"githubConfig.authorizerCredential.oauthTokenSecretVersion": token})
            if reason:
                raise ApiError(400, "Cannot create connection %s: %s." % (name, reason), "FAILED_PRECONDITION")
            state = {"stage": "COMPLETE"} if config.get("appInstallationId") else github_pending_install(name)
        else:
            if config.get("appInstallationId"):
                raise ApiError(400, "githubConfig.appInstallationId needs githubConfig.authorizerCredential.oauthTokenSecretVersion.")
            reason = agent_may_keep_secrets(ctx, project)
            if reason:
                raise ApiError(400, "Cannot create connection %s: %s." % (name, reason), "FAILED_PRECONDITION")
            state = github_pending_oauth(name, location)
        connection.update(githubConfig=config, installationState=state)
    elif "gitlabConfig" in body:
        config = dict(body.get("gitlabConfig") or {})
        reason = unreadable(ctx, project, gitlab_versions(config))
        if reason:
            raise ApiError(400, "Cannot create connection %s: %s." % (name, reason), "FAILED_PRECONDITION")
        config.setdefault("hostUri", GITLAB_HOST)
        connection["gitlabConfig"] = config
    else:
        raise ApiError(400, "The stand-in models githubConfig and gitlabConfig connections only.")
    return connection


def existing_connection(ctx, name):
    connection = table(ctx.state, "connections").get(name)
    if connection is None:
        raise ApiError(404, "Connection %s not found." % name)
    return connection


def host_of(connection):
    if "githubConfig" in connection:
        return GITHUB_HOST
    return (connection.get("gitlabConfig") or {}).get("hostUri", GITLAB_HOST).rstrip("/")


def incomplete(connection):
    """Why CONNECTION cannot serve repositories now, or None."""
    if connection.get("disabled"):
        return "connection %s is disabled" % connection["name"]
    state = connection.get("installationState")
    if state and state.get("stage") != "COMPLETE":
        return ("connection %s is in installation state %s, not COMPLETE: %s %s"
                % (connection["name"], state.get("stage"), state.get("message", ""), state.get("actionUri", ""))).strip()
    return None


@route("POST", CONNECTIONS, "cloudbuild", "connections.create", True)
def connections_create(ctx, m):
    project, location = enter(ctx, m)
    ctx.authorize("cloudbuild.projects.locations.connections.create", "projects/%s" % project)
    regional(location)
    connection_id = ctx.q("connectionId") or ""
    if not RESOURCE_ID.match(connection_id):
        raise ApiError(400, "connectionId %r: letters, digits and -._~%%!$&'()*+,;=@ only." % connection_id)
    name = "projects/%s/locations/%s/connections/%s" % (project, location, connection_id)
    if name in table(ctx.state, "connections"):
        raise ApiError(409, "connection %s already exists" % name)
    connection = new_connection(ctx, project, location, connection_id, ctx.body or {})
    table(ctx.state, "connections")[name] = connection
    ctx.changed = True
    return v2_operation(ctx, project, location, connection, "type.googleapis.com/google.devtools.cloudbuild.v2.Connection", "create", name)


@route("GET", CONNECTIONS, "cloudbuild", "connections.list")
def connections_list(ctx, m):
    project, location = enter(ctx, m)
    ctx.authorize("cloudbuild.projects.locations.connections.list", "projects/%s" % project)
    prefix = "projects/%s/locations/%s/connections/" % (project, location)
    return {"connections": [c for k, c in sorted(table(ctx.state, "connections").items()) if k.startswith(prefix)]}


@route("GET", CONNECTION, "cloudbuild", "connections.get")
def connections_get(ctx, m):
    project, location = enter(ctx, m)
    name = "projects/%s/locations/%s/connections/%s" % (project, location, m.group(3))
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.get", connection_chain(name))
    return existing_connection(ctx, name)


@route("DELETE", CONNECTION, "cloudbuild", "connections.delete", True)
def connections_delete(ctx, m):
    project, location = enter(ctx, m)
    name = "projects/%s/locations/%s/connections/%s" % (project, location, m.group(3))
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.delete", connection_chain(name))
    existing_connection(ctx, name)
    linked = [k for k in table(ctx.state, "cloudbuildRepositories") if k.startswith(name + "/repositories/")]
    if linked:
        # Stricter reading: whether Google deletes linked repositories with their connection is not read.
        raise ApiError(400, "connection %s still has repositories (%s); delete them first." % (name, ", ".join(linked)), "FAILED_PRECONDITION")
    del table(ctx.state, "connections")[name]
    ctx.state["iamPolicies"].pop(name, None)
    ctx.changed = True
    return v2_operation(ctx, project, location, {}, "type.googleapis.com/google.protobuf.Empty", "delete", name)


@route("GET", CONNECTION + r":getIamPolicy", "cloudbuild", "connections.getIamPolicy")
def connections_get_iam(ctx, m):
    project, location = enter(ctx, m)
    name = "projects/%s/locations/%s/connections/%s" % (project, location, m.group(3))
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.getIamPolicy", connection_chain(name))
    existing_connection(ctx, name)
    return get_policy(ctx, name)


@route("POST", CONNECTION + r":setIamPolicy", "cloudbuild", "connections.setIamPolicy", True)
def connections_set_iam(ctx, m):
    project, location = enter(ctx, m)
    name = "projects/%s/locations/%s/connections/%s" % (project, location, m.group(3))
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.setIamPolicy", connection_chain(name))
    existing_connection(ctx, name)
    return set_policy(ctx, name)


# --------------------------------------------------------------------------
# Repositories


def remote_path(connection, remote_uri):
    """OWNER/NAME (GitLab: GROUP[/SUBGROUP]/NAME) of a clone URL on the connection's host, or None."""
    host = host_of(connection)
    m = re.fullmatch(re.escape(host) + r"/([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+)\.git", remote_uri or "")
    if not m or ("githubConfig" in connection and m.group(1).count("/") != 1):
        return None
    return m.group(1)


@route("POST", REPOSITORIES, "cloudbuild", "repositories.create", True)
def repositories_create(ctx, m):
    project, location = enter(ctx, m)
    connection_name = "projects/%s/locations/%s/connections/%s" % (project, location, m.group(3))
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.repositories.create", connection_chain(connection_name))
    connection = existing_connection(ctx, connection_name)
    reason = incomplete(connection)
    if reason:
        raise ApiError(400, "Cannot link a repository: %s." % reason, "FAILED_PRECONDITION")
    repository_id = ctx.q("repositoryId") or ""
    if not RESOURCE_ID.match(repository_id):
        raise ApiError(400, "repositoryId %r: letters, digits and -._~%%!$&'()*+,;=@ only." % repository_id)
    remote_uri = (ctx.body or {}).get("remoteUri")
    path = remote_path(connection, remote_uri)
    if path is None:
        raise ApiError(400, "remoteUri %r is not an https clone URL on %s (%s/OWNER/NAME.git)."
                       % (remote_uri, host_of(connection), host_of(connection)))
    installed = table(ctx.state, "githubInstallations").get(connection_name)
    if installed is not None and path not in installed:
        raise ApiError(400, "The Cloud Build GitHub App installation of %s cannot access %s (installed on: %s)."
                       % (connection_name, path, ", ".join(installed) or "no repository"), "FAILED_PRECONDITION")
    if "gitlabConfig" in connection:
        # Linking creates the project's webhook in GitLab with the api token and the webhook secret.
        versions = gitlab_versions(connection["gitlabConfig"])
        versions.pop("gitlabConfig.readAuthorizerCredential.userTokenSecretVersion")
        reason = unreadable(ctx, project, versions)
        if reason:
            raise ApiError(400, "Cannot link a repository: %s." % reason, "FAILED_PRECONDITION")
    name = "%s/repositories/%s" % (connection_name, repository_id)
    repositories = table(ctx.state, "cloudbuildRepositories")
    if name in repositories:
        raise ApiError(409, "repository %s already exists" % name)
    repository = {"name": name, "remoteUri": remote_uri, "createTime": now(), "updateTime": now(), "etag": uuid.uuid4().hex}
    if "gitlabConfig" in connection:
        repository["webhookId"] = str(1000 + ctx.state.next_id("webhook"))
    repositories[name] = repository
    ctx.changed = True
    return v2_operation(ctx, project, location, repository, "type.googleapis.com/google.devtools.cloudbuild.v2.Repository", "create", name)


def existing_repository(ctx, name):
    repository = table(ctx.state, "cloudbuildRepositories").get(name)
    if repository is None:
        raise ApiError(404, "Repository %s not found." % name)
    return repository


@route("GET", REPOSITORIES, "cloudbuild", "repositories.list")
def repositories_list(ctx, m):
    project, location = enter(ctx, m)
    connection_name = "projects/%s/locations/%s/connections/%s" % (project, location, m.group(3))
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.repositories.list", connection_chain(connection_name))
    existing_connection(ctx, connection_name)
    prefix = connection_name + "/repositories/"
    return {"repositories": [r for k, r in sorted(table(ctx.state, "cloudbuildRepositories").items()) if k.startswith(prefix)]}


def repository_name(ctx, m):
    project, location = enter(ctx, m)
    return "projects/%s/locations/%s/connections/%s/repositories/%s" % (project, location, m.group(3), m.group(4))


@route("GET", REPOSITORY, "cloudbuild", "repositories.get")
def repositories_get(ctx, m):
    name = repository_name(ctx, m)
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.repositories.get", repository_chain(name))
    return existing_repository(ctx, name)


@route("DELETE", REPOSITORY, "cloudbuild", "repositories.delete", True)
def repositories_delete(ctx, m):
    name = repository_name(ctx, m)
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.repositories.delete", repository_chain(name))
    existing_repository(ctx, name)
    del table(ctx.state, "cloudbuildRepositories")[name]
    ctx.changed = True
    project, location = name.split("/")[1], name.split("/")[3]
    return v2_operation(ctx, project, location, {}, "type.googleapis.com/google.protobuf.Empty", "delete", name)


def read_token_denial(ctx, name, member, by):
    """None when MEMBER may fetch REPOSITORY's source (accessReadToken, "Requires the following IAM permission
    on the repository resource: cloudbuild.repositories.accessReadToken"), else why not."""
    if not check_chain(ctx, "cloudbuild.repositories.accessReadToken", repository_chain(name), member=member, by=by):
        return "%s lacks cloudbuild.repositories.accessReadToken on %s (roles/cloudbuild.readTokenAccessor)" % (member.split(":", 1)[-1], name)
    return None


@route("POST", REPOSITORY + r":accessReadToken", "cloudbuild", "repositories.accessReadToken")
def repositories_access_read_token(ctx, m):
    name = repository_name(ctx, m)
    authorize_chain(ctx, "cloudbuild.projects.locations.connections.repositories.accessReadToken", repository_chain(name))
    existing_repository(ctx, name)
    connection = existing_connection(ctx, name.split("/repositories/")[0])
    reason = incomplete(connection)
    if reason:
        raise ApiError(400, reason, "FAILED_PRECONDITION")
    return {"token": "standin-read-token-%s" % uuid.uuid4().hex, "expirationTime": now()}


# --------------------------------------------------------------------------
# Test plumbing, not Google: what the person does in a browser for a GitHub connection.


def plumbing_connection(ctx, m):
    project, location = enter(ctx, m)
    name = "projects/%s/locations/%s/connections/%s" % (project, location, m.group(3))
    connection = existing_connection(ctx, name)
    if "githubConfig" not in connection:
        raise ApiError(400, "%s is not a GitHub connection: it has no browser steps." % name)
    return project, location, name, connection


@route("POST", r"/_standin" + CONNECTION + r":authorizeGithub", "standin", "connections.authorizeGithub", True)
def plumbing_authorize(ctx, m):
    """The person follows the PENDING_USER_OAUTH link: Cloud Build keeps the OAuth token in a secret
    of the project, created by its service agent (which is why it needs roles/secretmanager.admin)."""
    project, location, name, connection = plumbing_connection(ctx, m)
    stage = (connection.get("installationState") or {}).get("stage")
    if stage != "PENDING_USER_OAUTH":
        raise ApiError(400, "%s is in stage %s, not PENDING_USER_OAUTH." % (name, stage), "FAILED_PRECONDITION")
    reason = agent_may_keep_secrets(ctx, project)
    if reason:
        raise ApiError(400, "Cloud Build cannot store the GitHub token: %s." % reason, "FAILED_PRECONDITION")
    secret_id = "%s-github-oauthtoken-%s" % (m.group(3), uuid.uuid4().hex[:6])
    secret_manager.create_secret(ctx, project, secret_id)
    secret_manager.store_version(ctx, "projects/%s/secrets/%s" % (project, secret_id),
                                 base64.b64encode(b"gho_standin").decode())
    user = (ctx.body or {}).get("githubUser") or "robot-account"
    connection["githubConfig"]["authorizerCredential"] = {
        "oauthTokenSecretVersion": "projects/%s/secrets/%s/versions/latest" % (project, secret_id), "username": user}
    connection["installationState"] = github_pending_install(name)
    connection["updateTime"] = now()
    ctx.changed = True
    return connection


@route("POST", r"/_standin" + CONNECTION + r":installGithubApp", "standin", "connections.installGithubApp", True)
def plumbing_install(ctx, m):
    """The person installs the Cloud Build GitHub App, on every repository of the account or on those
    named in {"repositories": ["OWNER/NAME", ...]}."""
    _, _, name, connection = plumbing_connection(ctx, m)
    stage = (connection.get("installationState") or {}).get("stage")
    if stage != "PENDING_INSTALL_APP":
        raise ApiError(400, "%s is in stage %s, not PENDING_INSTALL_APP." % (name, stage), "FAILED_PRECONDITION")
    connection["githubConfig"]["appInstallationId"] = str(40000000 + ctx.state.next_id("installation"))
    repositories = (ctx.body or {}).get("repositories")
    if repositories is not None:
        table(ctx.state, "githubInstallations")[name] = list(repositories)
    connection["installationState"] = {"stage": "COMPLETE"}
    connection["updateTime"] = now()
    ctx.changed = True
    return connection
