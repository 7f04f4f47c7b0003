"""Cloud Build v2 (connections, repositories), Secret Manager and regional 2nd-gen triggers, against the
real gcloud of this machine; what a webhook's event makes Cloud Build start (repository_events.py)."""

import base64
import json
import os
import subprocess

import pytest
from conftest import call

import gcloud_env
from apis.repository_events import files_filter, glob_regex

PROJECT = "demo-project"
NUMBER = "123456789012"
REGION = "us-central1"
AGENT = "serviceAccount:service-%s@gcp-sa-cloudbuild.iam.gserviceaccount.com" % NUMBER
OWNER = "user:owner@example.com"
LOCATION = "projects/%s/locations/%s" % (PROJECT, REGION)


@pytest.fixture
def gapi(start_server):
    return start_server("google_apis.py")


def gcloud(server, workdir, *args, identity=OWNER, check=True, stdin=None):
    """The real gcloud against SERVER as IDENTITY; CLOUDSDK_CONFIG per identity under WORKDIR."""
    config = workdir / ("gcloud-" + identity.replace(":", "-").replace("@", "-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDSDK_")}
    env.update(gcloud_env.gcloud_env(server.port, PROJECT, str(config), identity))
    result = subprocess.run(["gcloud", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, "gcloud %s failed:\n%s%s" % (" ".join(args), result.stdout, result.stderr)
    return result


def since(server, n):
    return [(r["method"], r["path"], r["status"]) for r in server.requests()[n:]]


def grant(server, resource_path, member, role, api="v1"):
    """Adds a binding through the API's getIamPolicy/setIamPolicy, as the project owner."""
    if resource_path.startswith("projects/%s" % PROJECT) and "/" not in resource_path[len("projects/"):]:
        get = ("POST", "/v1/%s:getIamPolicy" % resource_path)
    else:
        get = ("GET", "/%s/%s:getIamPolicy" % (api, resource_path))
    status, policy = call(server, get[0], get[1], OWNER, {} if get[0] == "POST" else None)
    assert status == 200, policy
    policy.setdefault("bindings", []).append({"role": role, "members": [member]})
    status, body = call(server, "POST", "/%s/%s:setIamPolicy" % (api, resource_path), OWNER, {"policy": policy})
    assert status == 200, body


def enable(server, *services):
    status, body = call(server, "POST", "/v1/projects/%s/services:batchEnable" % PROJECT, OWNER, {"serviceIds": list(services)})
    assert status == 200, body


def plumbing(server, connection, step, body=None):
    return call(server, "POST", "/_standin/v2/%s:%s" % (connection, step), OWNER, body or {})


# --------------------------------------------------------------------------
# GitHub: the installation process, as gcloud drives it


def test_github_connection_waits_for_the_browser_and_then_links_a_repository(gapi, tmp_path):
    conn = "%s/connections/gh" % LOCATION
    create = ("builds", "connections", "create", "github", "gh", "--region=%s" % REGION)

    # Without the Secret Manager API, and then without the agent's roles/secretmanager.admin: refused.
    refused = gcloud(gapi, tmp_path, *create, check=False)
    assert refused.returncode != 0 and "secretmanager.googleapis.com" in refused.stderr
    enable(gapi, "cloudbuild.googleapis.com", "secretmanager.googleapis.com")
    refused = gcloud(gapi, tmp_path, *create, check=False)
    assert refused.returncode != 0 and "roles/secretmanager.admin" in refused.stderr
    assert AGENT.split(":")[1] in refused.stderr

    grant(gapi, "projects/%s" % PROJECT, AGENT, "roles/secretmanager.admin")
    n = len(gapi.requests())
    out = gcloud(gapi, tmp_path, *create).stdout.splitlines()
    assert since(gapi, n) == [("POST", "/v2/%s/connections" % LOCATION, 200), ("GET", "/v2/%s" % conn, 200)]
    first = gapi.requests()[n]
    assert first["query"]["connectionId"] == "gh" and first["body"] == {"githubConfig": {}}
    # gcloud prints the stage, the instruction and the link (its csv output format).
    assert out[0] == "PENDING_USER_OAUTH" and "authorize Cloud Build" in out[1]
    assert out[2].startswith("https://accounts.google.com/") and "oauth_v2" in out[2]

    # The agent got roles/cloudbuild.serviceAgent when Cloud Build v2 was first used.
    policy = json.loads(gcloud(gapi, tmp_path, "projects", "get-iam-policy", PROJECT, "--format=json").stdout)
    assert {"role": "roles/cloudbuild.serviceAgent", "members": [AGENT]} in policy["bindings"]

    link = ("builds", "repositories", "create", "mono", "--remote-uri=https://github.com/acme/mono.git",
            "--connection=gh", "--region=%s" % REGION)
    pending = gcloud(gapi, tmp_path, *link, check=False)
    assert pending.returncode != 0 and "PENDING_USER_OAUTH" in pending.stderr

    # The person authorises Cloud Build (test plumbing): the token goes to a secret the agent creates.
    status, body = plumbing(gapi, conn, "authorizeGithub")
    assert status == 200 and body["installationState"]["stage"] == "PENDING_INSTALL_APP"
    token = body["githubConfig"]["authorizerCredential"]["oauthTokenSecretVersion"]
    assert token.startswith("projects/%s/secrets/gh-github-oauthtoken-" % PROJECT)
    secrets = gcloud(gapi, tmp_path, "secrets", "list", "--format=value(name)").stdout
    assert token.split("/")[3] in secrets
    described = gcloud(gapi, tmp_path, "builds", "connections", "describe", "gh", "--region=%s" % REGION,
                       "--format=value(installationState.stage,installationState.actionUri)").stdout
    assert described.startswith("PENDING_INSTALL_APP\thttps://github.com/apps/google-cloud-build/installations/new")
    assert "PENDING_INSTALL_APP" in gcloud(gapi, tmp_path, *link, check=False).stderr

    # ... installs the Cloud Build GitHub App on one repository: COMPLETE, and that repository only links.
    status, body = plumbing(gapi, conn, "installGithubApp", {"repositories": ["acme/mono"]})
    assert status == 200 and body["installationState"] == {"stage": "COMPLETE"} and body["githubConfig"]["appInstallationId"]
    other = gcloud(gapi, tmp_path, *[a.replace("acme/mono", "acme/other") for a in link], check=False)
    assert other.returncode != 0 and "cannot access acme/other" in other.stderr
    bad_uri = gcloud(gapi, tmp_path, *[a.replace(".git", "") for a in link], check=False)
    assert bad_uri.returncode != 0 and "clone URL" in bad_uri.stderr

    n = len(gapi.requests())
    gcloud(gapi, tmp_path, *link)
    assert since(gapi, n) == [("POST", "/v2/%s/repositories" % conn, 200), ("GET", "/v2/%s/repositories/mono" % conn, 200)]
    assert gapi.requests()[n]["query"]["repositoryId"] == "mono"
    assert gapi.requests()[n]["body"] == {"remoteUri": "https://github.com/acme/mono.git"}

    # A re-run of the setup's reads finds everything done.
    n = len(gapi.requests())
    listed = gcloud(gapi, tmp_path, "builds", "connections", "list", "--region=%s" % REGION).stdout
    assert "gh" in listed and "COMPLETE" in listed
    repo = json.loads(gcloud(gapi, tmp_path, "builds", "repositories", "describe", "mono", "--connection=gh",
                             "--region=%s" % REGION, "--format=json").stdout)
    assert repo["remoteUri"] == "https://github.com/acme/mono.git"
    assert "mono" in gcloud(gapi, tmp_path, "builds", "repositories", "list", "--connection=gh", "--region=%s" % REGION).stdout
    assert [r for r in gapi.requests()[n:] if r["changed"]] == []
    # Browser steps are refused out of order.
    assert plumbing(gapi, conn, "authorizeGithub")[0] == 400

    # Deleting: the repositories first (stricter reading), then the connection.
    delete = ("builds", "connections", "delete", "gh", "--region=%s" % REGION)
    assert "still has repositories" in gcloud(gapi, tmp_path, *delete, check=False).stderr
    n = len(gapi.requests())
    gcloud(gapi, tmp_path, "builds", "repositories", "delete", "mono", "--connection=gh", "--region=%s" % REGION)
    gcloud(gapi, tmp_path, *delete)
    assert since(gapi, n) == [("DELETE", "/v2/%s/repositories/mono" % conn, 200), ("DELETE", "/v2/%s" % conn, 200)]


def test_a_github_connection_with_a_token_and_an_installation_is_complete_at_once(gapi, tmp_path):
    enable(gapi, "secretmanager.googleapis.com")
    gcloud(gapi, tmp_path, "secrets", "create", "gh-token", "--data-file=-", stdin="gho_x")
    args = ("builds", "connections", "create", "github", "gh2", "--region=%s" % REGION,
            "--authorizer-token-secret-version=projects/%s/secrets/gh-token/versions/1" % PROJECT)
    # The agent must be able to read the token (here: no grant at all).
    refused = gcloud(gapi, tmp_path, *args, "--app-installation-id=123", check=False)
    assert refused.returncode != 0 and "secretmanager.versions.access" in refused.stderr
    grant(gapi, "projects/%s/secrets/gh-token" % PROJECT, AGENT, "roles/secretmanager.secretAccessor")
    out = gcloud(gapi, tmp_path, *args, "--app-installation-id=123").stdout
    assert out.splitlines()[0] == "COMPLETE"
    assert gapi.requests()[-2]["body"]["githubConfig"] == {
        "appInstallationId": "123",
        "authorizerCredential": {"oauthTokenSecretVersion": "projects/%s/secrets/gh-token/versions/1" % PROJECT}}


# --------------------------------------------------------------------------
# GitLab: three secret versions the agent must read


def test_gitlab_connection_needs_secret_versions_the_agent_can_read(gapi, tmp_path):
    enable(gapi, "secretmanager.googleapis.com")
    for name, value in (("gl-api", "glpat-api"), ("gl-read", "glpat-read"), ("gl-webhook", "whsec")):
        n = len(gapi.requests())
        gcloud(gapi, tmp_path, "secrets", "create", name, "--data-file=-", stdin=value)
        assert since(gapi, n) == [("POST", "/v1/projects/%s/secrets" % PROJECT, 200),
                                  ("POST", "/v1/projects/%s/secrets/%s:addVersion" % (PROJECT, name), 200)]
        assert base64.b64decode(gapi.requests()[-1]["body"]["payload"]["data"]).decode() == value
    versions = {"api": "projects/%s/secrets/gl-api/versions/latest" % PROJECT,
                "read": "projects/%s/secrets/gl-read/versions/1" % PROJECT,
                "webhook": "projects/%s/secrets/gl-webhook/versions/1" % PROJECT}
    create = ("builds", "connections", "create", "gitlab", "gl", "--region=%s" % REGION,
              "--authorizer-token-secret-version=%s" % versions["api"],
              "--read-authorizer-token-secret-version=%s" % versions["read"],
              "--webhook-secret-secret-version=%s" % versions["webhook"])
    refused = gcloud(gapi, tmp_path, *create, check=False)
    assert refused.returncode != 0 and "authorizerCredential" in refused.stderr and "secretmanager.versions.access" in refused.stderr

    # Each secret readable by the agent (a binding on the secret, as Google's examples grant it) ...
    for name in ("gl-api", "gl-read"):
        gcloud(gapi, tmp_path, "secrets", "add-iam-policy-binding", name, "--member=%s" % AGENT,
               "--role=roles/secretmanager.secretAccessor", "--format=none")
    refused = gcloud(gapi, tmp_path, *create, check=False)
    assert refused.returncode != 0 and "webhookSecretSecretVersion" in refused.stderr
    gcloud(gapi, tmp_path, "secrets", "add-iam-policy-binding", "gl-webhook", "--member=%s" % AGENT,
           "--role=roles/secretmanager.secretAccessor", "--format=none")
    # ... and each version existing.
    missing = gcloud(gapi, tmp_path, *[a.replace("gl-read/versions/1", "gl-read/versions/2") for a in create], check=False)
    assert missing.returncode != 0 and "does not exist" in missing.stderr

    n = len(gapi.requests())
    gcloud(gapi, tmp_path, *create)
    body = gapi.requests()[n]["body"]
    assert body == {"gitlabConfig": {"authorizerCredential": {"userTokenSecretVersion": versions["api"]},
                                     "readAuthorizerCredential": {"userTokenSecretVersion": versions["read"]},
                                     "webhookSecretSecretVersion": versions["webhook"]}}
    connection = json.loads(gcloud(gapi, tmp_path, "builds", "connections", "describe", "gl", "--region=%s" % REGION,
                                   "--format=json").stdout)
    assert connection["gitlabConfig"]["hostUri"] == "https://gitlab.com" and "installationState" not in connection

    # Linking creates GitLab's webhook with the api token: a disabled version stops it.
    gcloud(gapi, tmp_path, "secrets", "versions", "disable", "1", "--secret=gl-webhook")
    link = ("builds", "repositories", "create", "mono", "--remote-uri=https://gitlab.com/acme/tools/mono.git",
            "--connection=gl", "--region=%s" % REGION)
    refused = gcloud(gapi, tmp_path, *link, check=False)
    assert refused.returncode != 0 and "DISABLED" in refused.stderr
    gcloud(gapi, tmp_path, "secrets", "versions", "enable", "1", "--secret=gl-webhook")
    gcloud(gapi, tmp_path, *link)
    repo = json.loads(gcloud(gapi, tmp_path, "builds", "repositories", "describe", "mono", "--connection=gl",
                             "--region=%s" % REGION, "--format=json").stdout)
    assert repo["remoteUri"] == "https://gitlab.com/acme/tools/mono.git" and repo["webhookId"]


# --------------------------------------------------------------------------
# Secret Manager on its own


def test_secret_manager_checks_each_method_and_the_api(gapi, tmp_path):
    refused = gcloud(gapi, tmp_path, "secrets", "create", "s", "--data-file=-", stdin="v", check=False)
    assert refused.returncode != 0 and "SERVICE_DISABLED" in refused.stderr
    enable(gapi, "secretmanager.googleapis.com")
    gcloud(gapi, tmp_path, "secrets", "create", "s", "--data-file=-", stdin="one")
    gcloud(gapi, tmp_path, "secrets", "versions", "add", "s", "--data-file=-", stdin="two")
    assert gcloud(gapi, tmp_path, "secrets", "versions", "access", "latest", "--secret=s").stdout == "two"
    assert gcloud(gapi, tmp_path, "secrets", "versions", "access", "1", "--secret=s").stdout == "one"
    listed = gcloud(gapi, tmp_path, "secrets", "versions", "list", "s", "--format=value(name)").stdout.split()
    assert listed == ["2", "1"]

    reader = "serviceAccount:reader@%s.iam.gserviceaccount.com" % PROJECT
    denied = gcloud(gapi, tmp_path, "secrets", "versions", "access", "latest", "--secret=s", identity=reader, check=False)
    assert denied.returncode != 0 and "secretmanager.versions.access" in denied.stderr
    gcloud(gapi, tmp_path, "secrets", "add-iam-policy-binding", "s", "--member=%s" % reader,
           "--role=roles/secretmanager.secretAccessor", "--format=none")
    assert gcloud(gapi, tmp_path, "secrets", "versions", "access", "latest", "--secret=s", identity=reader).stdout == "two"
    cannot_add = gcloud(gapi, tmp_path, "secrets", "versions", "add", "s", "--data-file=-", stdin="x", identity=reader, check=False)
    assert cannot_add.returncode != 0 and "secretmanager.versions.add" in cannot_add.stderr


# --------------------------------------------------------------------------
# Who may connect, link and read


def seed_complete_github(gapi, connection="gh", repositories=("mono",)):
    """A COMPLETE GitHub connection and linked repositories, through the API as the project owner."""
    enable(gapi, "cloudbuild.googleapis.com", "secretmanager.googleapis.com")
    grant(gapi, "projects/%s" % PROJECT, AGENT, "roles/secretmanager.admin")
    status, body = call(gapi, "POST", "/v2/%s/connections?connectionId=%s" % (LOCATION, connection), OWNER, {"githubConfig": {}})
    assert status == 200, body
    name = "%s/connections/%s" % (LOCATION, connection)
    # The create's long-running operation: done, and read again through the operations route.
    assert body["done"] and body["name"].startswith("%s/operations/" % LOCATION) and body["response"]["name"] == name
    assert call(gapi, "GET", "/v2/%s" % body["name"], OWNER) == (200, body)
    assert call(gapi, "GET", "/v2/%s" % body["name"], "user:stranger@example.com")[0] == 403
    assert plumbing(gapi, name, "authorizeGithub")[0] == 200
    assert plumbing(gapi, name, "installGithubApp")[0] == 200
    for repo in repositories:
        status, body = call(gapi, "POST", "/v2/%s/repositories?repositoryId=%s" % (name, repo), OWNER,
                            {"remoteUri": "https://github.com/acme/%s.git" % repo})
        assert status == 200, body
    return name


def test_connection_admin_connects_and_links_and_a_viewer_only_reads(gapi, tmp_path):
    enable(gapi, "cloudbuild.googleapis.com", "secretmanager.googleapis.com")
    grant(gapi, "projects/%s" % PROJECT, AGENT, "roles/secretmanager.admin")
    admin, viewer, editor = "user:admin@example.com", "user:viewer@example.com", "user:editor@example.com"
    grant(gapi, "projects/%s" % PROJECT, admin, "roles/cloudbuild.connectionAdmin")
    grant(gapi, "projects/%s" % PROJECT, editor, "roles/cloudbuild.builds.editor")
    create = ("builds", "connections", "create", "github", "gh", "--region=%s" % REGION)
    denied = gcloud(gapi, tmp_path, *create, identity=editor, check=False)
    assert denied.returncode != 0 and "cloudbuild.connections.create" in denied.stderr
    gcloud(gapi, tmp_path, *create, identity=admin)
    conn = "%s/connections/gh" % LOCATION
    plumbing(gapi, conn, "authorizeGithub")
    plumbing(gapi, conn, "installGithubApp")
    gcloud(gapi, tmp_path, "builds", "repositories", "create", "mono", "--remote-uri=https://github.com/acme/mono.git",
           "--connection=gh", "--region=%s" % REGION, identity=admin)

    describe = ("builds", "repositories", "describe", "mono", "--connection=gh", "--region=%s" % REGION)
    assert "cloudbuild.repositories.get" in gcloud(gapi, tmp_path, *describe, identity=viewer, check=False).stderr
    # A binding on the connection reaches its repositories.
    gcloud(gapi, tmp_path, "builds", "connections", "add-iam-policy-binding", "gh", "--region=%s" % REGION,
           "--member=%s" % viewer, "--role=roles/cloudbuild.connectionViewer")
    gcloud(gapi, tmp_path, *describe, identity=viewer)
    linked = gcloud(gapi, tmp_path, "builds", "repositories", "create", "two", "--remote-uri=https://github.com/acme/two.git",
                    "--connection=gh", "--region=%s" % REGION, identity=viewer, check=False)
    assert linked.returncode != 0 and "cloudbuild.repositories.create" in linked.stderr
    # The read token: the agent holds it through roles/cloudbuild.serviceAgent, a viewer does not.
    token = "/v2/%s/repositories/mono:accessReadToken" % conn
    assert call(gapi, "POST", token, AGENT)[0] == 200
    assert call(gapi, "POST", token, viewer)[0] == 403


# --------------------------------------------------------------------------
# Regional triggers


TRIGGER = """\
name: NAME
filename: package/cloudbuild.yaml
repositoryEventConfig:
  repository: REPOSITORY
  push:
    branch: ^main$
serviceAccount: projects/%s/serviceAccounts/builder@%s.iam.gserviceaccount.com
""" % (PROJECT, PROJECT)


def test_a_second_gen_trigger_is_regional_and_needs_its_linked_repository(gapi, tmp_path):
    conn = seed_complete_github(gapi)
    source = tmp_path / "trigger.yaml"

    def trigger(name, repository):
        source.write_text(TRIGGER.replace("NAME", name).replace("REPOSITORY", repository))
        return source

    repository = "%s/repositories/mono" % conn
    in_global = gcloud(gapi, tmp_path, "builds", "triggers", "import", "--source=%s" % trigger("publish", repository), check=False)
    assert in_global.returncode != 0 and "global" in in_global.stderr
    n = len(gapi.requests())
    gcloud(gapi, tmp_path, "builds", "triggers", "import", "--source=%s" % trigger("publish", repository), "--region=%s" % REGION)
    assert since(gapi, n) == [("PATCH", "/v1/%s/triggers/publish" % LOCATION, 404), ("POST", "/v1/%s/triggers" % LOCATION, 200)]
    assert gapi.requests()[-1]["body"]["repositoryEventConfig"] == {"repository": repository, "push": {"branch": "^main$"}}

    for bad, words in (("%s/repositories/nope" % conn, "does not exist"),
                       (repository.replace(REGION, "europe-west1"), "not in the trigger's project and region")):
        refused = gcloud(gapi, tmp_path, "builds", "triggers", "import", "--source=%s" % trigger("other", bad),
                         "--region=%s" % REGION, check=False)
        assert refused.returncode != 0 and words in refused.stderr

    # 1st-gen GitHub App triggers still import into global; triggers list per region.
    source.write_text("name: legacy\nfilename: cloudbuild.yaml\ngithub: {owner: acme, name: mono, push: {branch: ^main$}}\n")
    gcloud(gapi, tmp_path, "builds", "triggers", "import", "--source=%s" % source)
    regional = gcloud(gapi, tmp_path, "builds", "triggers", "list", "--region=%s" % REGION, "--format=value(name)").stdout.split()
    assert regional == ["publish"]
    assert gcloud(gapi, tmp_path, "builds", "triggers", "list", "--format=value(name)").stdout.split() == ["legacy"]


# --------------------------------------------------------------------------
# An event through the triggers


def put_trigger(gapi, name, config, **fields):
    body = dict({"name": name, "filename": "%s/cloudbuild.yaml" % name, "repositoryEventConfig": config,
                 "serviceAccount": "projects/%s/serviceAccounts/builder@%s.iam.gserviceaccount.com" % (PROJECT, PROJECT)}, **fields)
    status, out = call(gapi, "POST", "/v1/%s/triggers" % LOCATION, OWNER, body)
    assert status == 200, out


def make_account(gapi, account_id):
    status, out = call(gapi, "POST", "/v1/projects/%s/serviceAccounts" % PROJECT, OWNER, {"accountId": account_id})
    assert status == 200, out
    return "serviceAccount:" + out["email"]


def deliver(gapi, repository, event):
    return call(gapi, "POST", "/_standin/v2/%s:deliverEvent" % repository, OWNER, event)


@pytest.fixture
def wired(gapi):
    """A linked GitHub repository with a push trigger, a pull-request trigger, and their account."""
    conn = seed_complete_github(gapi)
    repository = "%s/repositories/mono" % conn
    builder = make_account(gapi, "builder")
    put_trigger(gapi, "publish", {"repository": repository, "push": {"branch": "^main$"}},
                includedFiles=["package/**"], ignoredFiles=["**/*.md"], substitutions={"_REGION": "us-east4"})
    put_trigger(gapi, "checks", {"repository": repository, "pullRequest": {
        "branch": "^main$", "commentControl": "COMMENTS_ENABLED_FOR_EXTERNAL_CONTRIBUTORS_ONLY"}})
    grant(gapi, conn, builder, "roles/cloudbuild.readTokenAccessor", api="v2")
    return gapi, conn, repository, builder


def names(result, kind):
    return sorted(b.get("triggerName") or b["trigger"] for b in result[kind])


def test_a_push_starts_the_triggers_that_match_with_their_substitutions(wired):
    gapi, _, repository, builder = wired
    status, result = deliver(gapi, repository, {"push": {"branch": "main", "commitSha": "0123456789abcdef",
                                                         "changedFiles": ["package/src/x.py", "README.md"]}})
    assert status == 200 and names(result, "builds") == ["publish"]
    build = result["builds"][0]
    assert build["filename"] == "publish/cloudbuild.yaml" and build["substitutions"] == {"_REGION": "us-east4"}
    assert build["serviceAccountEmail"] == builder.split(":")[1]
    values = build["builtIns"]
    assert values["SHORT_SHA"] == "0123456" and values["BRANCH_NAME"] == "main" and values["REF_NAME"] == "main"
    assert values["REPO_NAME"] == "mono" and values["REPO_FULL_NAME"] == "acme/mono" and values["LOCATION"] == REGION
    assert values["TRIGGER_NAME"] == "publish" and values["PROJECT_NUMBER"] == NUMBER
    assert values["SERVICE_ACCOUNT"] == "projects/%s/serviceAccounts/%s" % (PROJECT, build["serviceAccountEmail"])
    assert "_PR_NUMBER" not in values and values["TAG_NAME"] == ""
    assert {"trigger": "checks", "reason": "a pull-request trigger does not take a push"} in result["skipped"]
    # The log keeps the delivery.
    assert gapi.requests()[-1]["delivery"] == result

    for event, why in (({"branch": "dev", "changedFiles": ["package/x.py"]}, "does not match"),
                       ({"branch": "main", "changedFiles": ["package/docs/notes.md"]}, "ignoredFiles"),
                       ({"branch": "main", "changedFiles": ["functions/f/main.py"]}, "includedFiles"),
                       ({"branch": "main", "changedFiles": []}, "no changed file")):
        status, result = deliver(gapi, repository, {"push": dict(event, commitSha="abc1234")})
        assert status == 200 and result["builds"] == [] and why in json.dumps(result["skipped"]), (event, result)


def test_pull_requests_follow_comment_control(wired):
    gapi, _, repository, _ = wired
    pr = {"number": 7, "baseBranch": "main", "headBranch": "feature", "commitSha": "fedcba9876543210",
          "changedFiles": ["package/x.py"], "headRepoUrl": "https://github.com/stranger/mono.git"}
    status, result = deliver(gapi, repository, {"pullRequest": dict(pr, authorIsWriter=True)})
    assert status == 200 and names(result, "builds") == ["checks"]
    values = result["builds"][0]["builtIns"]
    assert (values["_PR_NUMBER"], values["_BASE_BRANCH"], values["_HEAD_BRANCH"]) == ("7", "main", "feature")
    assert values["BRANCH_NAME"] == "feature" and values["COMMIT_SHA"] == pr["commitSha"]

    outsider = dict(pr, authorIsWriter=False)
    assert deliver(gapi, repository, {"pullRequest": outsider})[1]["builds"] == []
    by_writer = deliver(gapi, repository, {"pullRequest": dict(outsider, comment={"body": "/gcbrun", "byWriter": True})})[1]
    assert names(by_writer, "builds") == ["checks"]
    by_outsider = deliver(gapi, repository, {"pullRequest": dict(outsider, comment={"body": "/gcbrun", "byWriter": False})})[1]
    assert by_outsider["builds"] == []
    assert deliver(gapi, repository, {"pullRequest": dict(pr, baseBranch="release", authorIsWriter=True)})[1]["builds"] == []


def test_a_build_cannot_start_without_its_account_or_the_source_fetch(wired, start_server):
    gapi, conn, repository, builder = wired
    push = {"push": {"branch": "main", "commitSha": "0123456789", "changedFiles": ["package/x.py"]}}
    # The trigger's account without the read token (stricter reading): that trigger's build fails.
    status, policy = call(gapi, "GET", "/v2/%s:getIamPolicy" % conn, OWNER)
    call(gapi, "POST", "/v2/%s:setIamPolicy" % conn, OWNER, {"policy": {"bindings": [], "etag": policy["etag"]}})
    result = deliver(gapi, repository, push)[1]
    assert result["builds"] == [] and "cloudbuild.repositories.accessReadToken" in result["failed"][0]["reason"]
    grant(gapi, conn, builder, "roles/cloudbuild.readTokenAccessor", api="v2")
    assert names(deliver(gapi, repository, push)[1], "builds") == ["publish"]

    # An account that does not exist.
    put_trigger(gapi, "ghost", {"repository": repository, "push": {"branch": ".*"}},
                serviceAccount="projects/%s/serviceAccounts/ghost@%s.iam.gserviceaccount.com" % (PROJECT, PROJECT))
    result = deliver(gapi, repository, push)[1]
    assert result["failed"] == [{"trigger": "ghost", "reason": "Failed to trigger build: service account ghost@%s.iam.gserviceaccount.com does not exist" % PROJECT}]

    # A repository that is not linked; a connection that is disabled.
    assert deliver(gapi, "%s/repositories/unlinked" % conn, push)[0] == 404
    state_path = os.path.join(gapi.data_dir, "state.json")
    gapi.stop()
    state = json.load(open(state_path))
    state["connections"][conn]["disabled"] = True
    json.dump(state, open(state_path, "w"))
    again = start_server("google_apis.py", gapi.data_dir)
    status, body = deliver(again, repository, push)
    assert status == 400 and "disabled" in body["error"]["message"]
    status, body = call(again, "POST", "/v1/%s/triggers" % LOCATION, OWNER, {"name": "late", "filename": "c.yaml",
                        "repositoryEventConfig": {"repository": repository, "push": {"branch": "^main$"}}})
    assert status == 400 and body["error"]["status"] == "FAILED_PRECONDITION" and "disabled" in body["error"]["message"]


def test_a_gitlab_merge_request_gets_no_github_substitutions(gapi):
    enable(gapi, "secretmanager.googleapis.com")
    versions = {}
    for name in ("api", "read", "hook"):
        assert call(gapi, "POST", "/v1/projects/%s/secrets?secretId=gl-%s" % (PROJECT, name), OWNER, {})[0] == 200
        call(gapi, "POST", "/v1/projects/%s/secrets/gl-%s:addVersion" % (PROJECT, name), OWNER, {"payload": {"data": "eA=="}})
        grant(gapi, "projects/%s/secrets/gl-%s" % (PROJECT, name), AGENT, "roles/secretmanager.secretAccessor")
        versions[name] = "projects/%s/secrets/gl-%s/versions/1" % (PROJECT, name)
    status, body = call(gapi, "POST", "/v2/%s/connections?connectionId=gl" % LOCATION, OWNER, {"gitlabConfig": {
        "authorizerCredential": {"userTokenSecretVersion": versions["api"]},
        "readAuthorizerCredential": {"userTokenSecretVersion": versions["read"]},
        "webhookSecretSecretVersion": versions["hook"]}})
    assert status == 200, body
    conn = "%s/connections/gl" % LOCATION
    assert call(gapi, "POST", "/v2/%s/repositories?repositoryId=mono" % conn, OWNER,
                {"remoteUri": "https://gitlab.com/acme/tools/mono.git"})[0] == 200
    repository = "%s/repositories/mono" % conn
    builder = make_account(gapi, "builder")
    grant(gapi, conn, builder, "roles/cloudbuild.readTokenAccessor", api="v2")
    put_trigger(gapi, "checks", {"repository": repository, "pullRequest": {"branch": "^main$"}})
    event = {"pullRequest": {"number": 3, "baseBranch": "main", "headBranch": "f", "commitSha": "1234567890", "authorIsWriter": True}}
    result = deliver(gapi, repository, event)[1]
    values = result["builds"][0]["builtIns"]
    assert values["REPO_FULL_NAME"] == "acme/tools/mono" and values["REPO_NAME"] == "mono"
    assert not [k for k in values if k.startswith("_")]
    # The agent reads the read_api token to fetch the source: without it, no build.
    status, policy = call(gapi, "GET", "/v1/projects/%s/secrets/gl-read:getIamPolicy" % PROJECT, OWNER)
    call(gapi, "POST", "/v1/projects/%s/secrets/gl-read:setIamPolicy" % PROJECT, OWNER, {"policy": {"bindings": [], "etag": policy["etag"]}})
    result = deliver(gapi, repository, event)[1]
    assert result["builds"] == [] and "readAuthorizerCredential" in result["failed"][0]["reason"]


def test_the_file_globs_are_gos_with_double_star():
    assert glob_regex("package/**").match("package/a/b/c.py")
    assert glob_regex("*.md").match("README.md") and not glob_regex("*.md").match("docs/a.md")
    assert glob_regex("**/*.md").match("docs/a.md") and glob_regex("f?o/[a-c].py").match("foo/b.py")
    assert not glob_regex("f?o/[a-c].py").match("foo/d.py") and not glob_regex("f?o").match("f/o")
    trigger = {"includedFiles": ["package/**"], "ignoredFiles": ["**/*.md"]}
    assert files_filter(trigger, ["package/x.py"]) is None
    assert files_filter(trigger, ["package/x.md"]) == "no changed file is outside ignoredFiles"
    assert files_filter({"ignoredFiles": ["*.md"]}, ["README.md", "setup.py"]) is None
    assert files_filter({}, []) is None
