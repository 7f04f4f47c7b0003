#!/usr/bin/env python3
"""One loopback server standing in for the Google APIs that the real gcloud calls.

    python3 test/standins/google_apis.py --data-dir DIR [--port-file FILE] [--function-builds CREDENTIAL] [--pypi-url URL]

Point gcloud at it with the environment from gcloud_env.py (every API in
gcloud_env.APIS overridden to http://127.0.0.1:PORT/, credentials disabled).

DIR/state.json   resources (read at start-up, so a restart or a test can seed it)
DIR/requests.jsonl  one JSON line per request, see README.md
DIR/uploads/     function source zips PUT to the URL from generateUploadUrl

Each Google service is one module of apis/, which opens with the claims it models and
their sources (README.md has the table):
  apis/core.py               state, routing, errors, IAM checks, operations, policies
  apis/resource_manager.py   Cloud Resource Manager v1/v3: projects
  apis/service_usage.py      Service Usage v1: services
  apis/artifact_registry.py  Artifact Registry v1: repositories
  apis/iam_admin.py          IAM v1 (service accounts, roles) and IAM Credentials v1
  apis/pubsub.py             Pub/Sub v1: topics
  apis/eventarc.py           Eventarc's delivery of events to functions
  apis/storage.py            Cloud Storage JSON v1: buckets, objects, service agent
  apis/cloud_logging.py      Cloud Logging v2: entries.write
  apis/cloud_build.py        Cloud Build v1: triggers, default service account
  apis/cloud_build_v2.py     Cloud Build v2: connections, repositories (2nd gen), browser steps
  apis/repository_events.py  a webhook's event through the triggers: the builds Cloud Build starts
  apis/secret_manager.py     Secret Manager v1: secrets, versions, IAM
  apis/cloud_functions.py    Cloud Functions v2: functions, runtimes, uploads
  apis/function_build.py     a function's build (Cloud Build and Google's Python buildpack)
  apis/cloud_run.py          Cloud Run v1/v2: services and their IAM policies
Anything else: 404 with a Google error body, a log record with "rpc": null,
and an "UNHANDLED" line on stderr.
"""

import argparse
import io
import json
import os
import sys
import urllib.parse
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import iam  # noqa: E402
from standin_http import QuietHandler, RequestLog, make_server, now, serve  # noqa: E402
from apis.core import ROUTES, UNAUTHENTICATED, ApiError, Context, State  # noqa: E402
# Importing a service module registers its routes; the order is the order they are matched in.
from apis import (  # noqa: E402,F401
    resource_manager, service_usage, artifact_registry, iam_admin, pubsub, storage,
    cloud_logging, cloud_build, cloud_functions, cloud_run,
    secret_manager, cloud_build_v2, repository_events,
)


def zip_members(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return sorted(z.namelist())
    except zipfile.BadZipFile:
        return None


class Handler(QuietHandler):
    server_version = "google-apis-standin/1"

    def caller(self):
        """The principal the request's bearer token names (iam.member_of), or None."""
        header = self.headers.get("Authorization") or ""
        if not header.lower().startswith("bearer "):
            return None
        return iam.member_of(header[7:].strip())

    def handle_any(self):
        raw = self.read_body()
        split = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(split.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        body = None
        if raw and "json" in (self.headers.get("Content-Type") or "json") and not path.startswith("/upload/"):
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        record = {
            "ts": now(),
            "method": self.command,
            "path": path,
            "query": {k: (v[0] if len(v) == 1 else v) for k, v in query.items()},
            "body": body,
            "api": None,
            "rpc": None,
            "mutating": False,
            "changed": False,
        }
        if raw and body is None:
            record["bodyBytes"] = len(raw)
        status, payload = 404, None
        for method, pattern, api, rpc, mutating, fn in ROUTES:
            if method != self.command:
                continue
            m = pattern.match(path)
            if not m:
                continue
            record.update(api=api, rpc=rpc, mutating=mutating)
            state = self.server.state
            member = self.caller()
            record["identity"] = member
            with state.lock:
                ctx = Context(self, state, query, body, raw, api, member)
                snapshot = json.dumps(state.data, sort_keys=True)
                try:
                    # Every Google API answers 401 to a call without credentials; the upload URL is
                    # a signed URL, which carries its own authorisation; a Cloud Run service may be public.
                    if member is None and rpc not in ("upload.put", "services.invoke"):
                        raise ApiError(401, UNAUTHENTICATED, "UNAUTHENTICATED")
                    payload = fn(ctx, m)
                    status = 200
                except ApiError as error:
                    status, payload = error.code, error.body()
                    state.data = json.loads(snapshot)  # a failed call changes nothing
                    ctx.changed = False
                else:
                    if json.dumps(state.data, sort_keys=True) != snapshot:
                        state.save()
                record["changed"] = bool(ctx.changed)
                if ctx.checks:
                    record["iam"] = ctx.checks
                record.update(ctx.extra)
            if rpc == "upload.put":
                record["upload"] = {"size": len(raw), "zipMembers": zip_members(raw)}
            break
        else:
            payload = {"error": {"code": 404, "message": "The stand-in has no route for %s %s" % (self.command, path), "status": "NOT_FOUND"}}
            sys.stderr.write("UNHANDLED %s %s\n" % (self.command, self.path))
        record["status"] = status
        self.server.log.write(record)
        data = json.dumps(payload).encode("utf-8")
        self.send_bytes(status, data, "application/json; charset=UTF-8")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", help="write the chosen port to this file once listening")
    parser.add_argument("--data-dir", required=True, help="state.json, requests.jsonl and uploads/")
    parser.add_argument("--function-builds", metavar="CREDENTIAL",
                        help="model each function build's install of requirements.txt; CREDENTIAL is what the "
                             "buildpack's pip path writes to .netrc for the repository hosts")
    parser.add_argument("--pypi-url", help="the stand-in PyPI's index URL for the buildpack's own installs (default: the one "
                                           "pypi_index.py --iam-state DIR/state.json announces in DIR/pypi-url)")
    args = parser.parse_args(argv)
    os.makedirs(args.data_dir, exist_ok=True)
    server = make_server(Handler)
    server.data_dir = args.data_dir
    server.function_builds = args.function_builds
    server.pypi_url = args.pypi_url
    server.state = State(os.path.join(args.data_dir, "state.json"))
    server.log = RequestLog(os.path.join(args.data_dir, "requests.jsonl"))
    return serve(server, "google_apis", args.port_file)


if __name__ == "__main__":
    sys.exit(main())
