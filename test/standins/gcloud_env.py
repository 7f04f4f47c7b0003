#!/usr/bin/env python3
"""The environment that points the real gcloud at google_apis.py.

    import gcloud_env
    env = gcloud_env.gcloud_env(port, "my-project", config_dir)   # add to os.environ

    python3 test/standins/gcloud_env.py --port PORT [--project P] [--config-dir DIR]
        [--identity MEMBER] [--json]
        prints `export NAME=value` lines (eval them in a shell), or one JSON object

Every API gcloud touches for the supported commands is overridden to
http://127.0.0.1:PORT/; prompts are off, and gcloud keeps its configuration (and
logs) in a throw-away CLOUDSDK_CONFIG directory. gcloud calls as IDENTITY (an IAM
principal; default the stand-in project's owner): its access token (iam.token_for)
is in CONFIG_DIR/access-token, which gcloud sends as a bearer token
(CLOUDSDK_AUTH_ACCESS_TOKEN_FILE), as it would a real one.
"""

import argparse
import json
import os
import shlex
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iam  # noqa: E402

# API names as gcloud's api_endpoint_overrides section spells them.
APIS = (
    "artifactregistry",
    "cloudbuild",
    "cloudfunctions",
    "cloudresourcemanager",
    "compute",
    "eventarc",
    "iam",
    "iamcredentials",
    "logging",
    "pubsub",
    "run",
    "secretmanager",
    "serviceusage",
    "storage",
)


def gcloud_env(port, project="p", config_dir=None, identity=iam.DEFAULT_OWNER):
    """Returns the variables to add to the environment of a gcloud run.

    config_dir: a directory gcloud may use as CLOUDSDK_CONFIG; a new temporary
    one is made when omitted (the caller removes it). identity: who gcloud calls as.
    """
    if config_dir is None:
        config_dir = tempfile.mkdtemp(prefix="gcloud-config-")
    os.makedirs(str(config_dir), exist_ok=True)
    token_file = os.path.join(str(config_dir), "access-token")
    with open(token_file, "w", encoding="utf-8") as f:
        f.write(iam.token_for(identity) + "\n")
    base = "http://127.0.0.1:%d/" % int(port)
    env = {
        "CLOUDSDK_CONFIG": str(config_dir),
        "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": token_file,
        "CLOUDSDK_CORE_PROJECT": project,
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
        # One log file per call is written otherwise; the tests make hundreds of calls.
        "CLOUDSDK_CORE_DISABLE_FILE_LOGGING": "true",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "CLOUDSDK_SURVEY_DISABLE_PROMPTS": "true",
        # Without this gcloud prints a "you are not logged in" hint on some errors
        # and tries the metadata server to find credentials.
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
    }
    for api in APIS:
        env["CLOUDSDK_API_ENDPOINT_OVERRIDES_%s" % api.upper()] = base
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--project", default="p")
    parser.add_argument("--config-dir", help="CLOUDSDK_CONFIG to use (default: a new temporary directory)")
    parser.add_argument("--identity", default=iam.DEFAULT_OWNER, help="the IAM principal gcloud calls as (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of export lines")
    args = parser.parse_args(argv)
    env = gcloud_env(args.port, args.project, args.config_dir, args.identity)
    if args.json:
        print(json.dumps(env, indent=2, sort_keys=True))
        return 0
    for key, value in sorted(env.items()):
        print("export %s=%s" % (key, shlex.quote(value)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
