#!/usr/bin/env python3
"""Loopback stand-in for an Artifact Registry Python repository.

The repository URL is http://127.0.0.1:PORT/ (twine uploads there) and the
index URL is http://127.0.0.1:PORT/simple/ (pip installs from there). Every
request needs HTTP basic auth with user `oauth2accesstoken` and an access token
as password, as Artifact Registry does with access tokens.

    python3 test/standins/pypi_index.py --data-dir DIR --token TOKEN [--token T2] [--port-file FILE]
    python3 test/standins/pypi_index.py --data-dir DIR --iam-state STATE_JSON --repository NAME [--port-file FILE]

With --token, each given token is accepted for everything. With --iam-state, the
token is a stand-in access token (iam.py) naming who calls, and IAM decides, on
the policies of google_apis.py's state.json: reading (pip, simple/) needs
artifactregistry.repositories.downloadArtifacts and uploading (twine) needs
artifactregistry.repositories.uploadArtifacts, on the repository NAME
(projects/P/locations/L/repositories/R) or its project; otherwise 403.

DIR keeps the uploaded files (DIR/packages/), the index (DIR/index.json, so a
restart sees earlier uploads) and DIR/requests.jsonl, one JSON line per request:
{"ts", "method", "path", "status", "user"} (the basic-auth user name, never the
password; null without auth) plus "upload": {"name", "version", "filename",
"size", "sha256"} for an upload attempt that got as far as parsing, and with
--iam-state "identity" and "iam" (the permission checks, as google_apis.py logs them).

Beside that standard repository, the same server models the layout that guards
against dependency confusion (see "Remote and virtual repositories" below):

    --remote NAME                   /NAME/: a PyPI remote repository, reading /pypi/
    --virtual NAME=UP:PRIO[,UP:PRIO] /NAME/: a virtual repository over upstreams, UP
                                    being `standard` (the repository at /) or a remote
    /pypi/                          always there: the stand-in's public PyPI. Anyone may
                                    read it; anyone with a token may publish to it
                                    (as anyone may publish any free name on PyPI).
"""

import argparse
import base64
import email.parser
import email.policy
import hashlib
import html
import json
import os
import re
import sys
import tempfile
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from standin_http import QuietHandler, RequestLog, make_server, now, serve  # noqa: E402
import iam  # noqa: E402
import python_buildpack  # noqa: E402
from wheels import make_wheel  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "functions_framework"))
import build_standin_wheel  # noqa: E402

USER = "oauth2accesstoken"


def normalize(name):
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Index:
    """Projects and files, persisted as DIR/index.json next to DIR/packages/."""

    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.packages_dir = os.path.join(data_dir, "packages")
        self.index_path = os.path.join(data_dir, "index.json")
        os.makedirs(self.packages_dir, exist_ok=True)
        self.lock = threading.Lock()
        self.projects = {}
        if os.path.exists(self.index_path):
            with open(self.index_path, encoding="utf-8") as f:
                self.projects = json.load(f).get("projects", {})

    def _save(self):
        tmp = self.index_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"projects": self.projects}, f, indent=2, sort_keys=True)
        os.replace(tmp, self.index_path)

    def add(self, name, version, filename, content, requires_python):
        """Stores a file; returns an error string or None."""
        with self.lock:
            key = normalize(name)
            for project in self.projects.values():
                if filename in project["files"]:
                    return "file %s already exists" % filename
            with open(os.path.join(self.packages_dir, filename), "wb") as f:
                f.write(content)
            project = self.projects.setdefault(key, {"name": name, "files": {}})
            project["files"][filename] = {
                "version": version,
                "sha256": hashlib.sha256(content).hexdigest(),
                "requires_python": requires_python or "",
            }
            self._save()
            return None

    def find_file(self, filename):
        with self.lock:
            for project in self.projects.values():
                if filename in project["files"]:
                    return os.path.join(self.packages_dir, filename)
        return None


def parse_multipart(content_type, body):
    """Returns {field: value} with str values, and file fields as (filename, bytes)."""
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    fields = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        field = part.get_param("name", header="content-disposition")
        if field is None:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[field] = (filename, payload)
        else:
            # Repeated fields (classifiers, ...) keep the first value: enough here.
            fields.setdefault(field, payload.decode("utf-8", "replace"))
    return fields


STANDARD = ""
PUBLIC = "pypi"


class Repository:
    """What one repository serves. Standard and public: their own Index; remote: the
    public one's, behind Artifact Registry's auth; virtual: its upstreams' (below)."""

    def __init__(self, name, mode, store=None, upstreams=(), public=False):
        self.name, self.mode, self.store, self.public = name or "standard", mode, store, public
        # (priority, source key, Repository), highest priority first.
        self.upstreams = sorted(upstreams, key=lambda u: -u[0])

    def _own(self):
        return self.store if self.store is not None else (self.upstreams[0][2].store if self.mode == "remote" else None)

    def project_names(self):
        if self.mode == "virtual":
            return sorted(set().union(*(set(up.project_names()) for _, _, up in self.upstreams)))
        store = self._own()
        with store.lock:
            return sorted(store.projects)

    def files(self, name):
        """{filename: (meta, source key)} of a project, or None when no upstream has it."""
        if self.mode != "virtual":
            store = self._own()
            with store.lock:
                project = store.projects.get(name)
                return {f: (m, "") for f, m in project["files"].items()} if project else None
        # Google's virtual repositories: "If you request a version that is available in
        # more than one upstream repository, Artifact Registry chooses an upstream
        # repository to use based on the priority settings configured for the virtual
        # repository" (Artifact Registry docs, python/manage-packages; virtual-overview:
        # "Entries with a greater priority value take precedence", and pip "will always
        # choose the latest version of a package, regardless of which repository it
        # comes from" when it reads several indexes). The priority decides per version,
        # not per name: a name present upstream of higher priority does not hide the
        # other versions that a lower one has (as users of pip against a virtual
        # repository report: an unpinned requirement gets the highest version of all
        # upstreams). So this lists, for every version, the files of the upstream with
        # the greatest priority that has that version; only a pin keeps a higher
        # version published on PyPI out.
        chosen, found = {}, False
        for _, key, upstream in self.upstreams:
            files = upstream.files(name)
            if files is None:
                continue
            found = True
            versions = {}
            for filename, (meta, _) in files.items():
                versions.setdefault(meta["version"], {})[filename] = (meta, key)
            for version, entries in versions.items():
                chosen.setdefault(version, entries)
        if not found:
            return None
        return {f: entry for entries in chosen.values() for f, entry in entries.items()}

    def find_file(self, source, filename):
        if self.mode == "virtual":
            for _, key, upstream in self.upstreams:
                if key == (source or ""):
                    return upstream.find_file("", filename)
            return None
        return self._own().find_file(filename)


class Handler(QuietHandler):
    server_version = "pypi-standin/1"

    # --- helpers -------------------------------------------------------
    def auth_user(self):
        """Returns (user, ok): the basic-auth user, and whether the password is a token
        this index accepts (a --token value, or with --iam-state a stand-in token)."""
        self.member = None
        self.checks = []
        header = self.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None, False
        try:
            decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
        except Exception:  # noqa: BLE001 (any garbage is simply unauthorised)
            return None, False
        user, _, password = decoded.partition(":")
        if user != USER:
            return user, False
        if password in self.server.tokens:
            return user, True
        if self.server.iam_state:
            self.member = iam.member_of(password)
        return user, self.member is not None

    # --- authorisation -----------------------------------------------------
    # The one place IAM is decided. Artifact Registry's Python endpoint is not a REST
    # method: a download or index read needs artifactregistry.repositories.downloadArtifacts,
    # an upload artifactregistry.repositories.uploadArtifacts, on the repository or its
    # project (cloud.google.com/artifact-registry/docs/access-control#permissions).
    def authorized(self, permission, user, repo):
        """True when the caller may; otherwise answers 403 and returns False. The resource is
        the repository the path names (a remote or virtual one beside the standard one, in its
        location); a virtual repository reads its upstreams as Artifact Registry's service
        agent, so only the repository asked is checked."""
        if self.member is None or repo.public:  # a --token caller, or PyPI: no IAM
            return True
        repository = self.server.repository
        if repo.mode != "standard":
            repository = "%s/%s" % (repository.rsplit("/", 1)[0], repo.name)
        policy_of, custom_roles = iam.load_state(self.server.iam_state)
        project = "projects/%s" % repository.split("/")[1]
        unrecognised = []
        found = iam.grants(policy_of, custom_roles, self.member, permission, [repository, project], unrecognised)
        check = {"member": self.member, "permission": permission, "resource": repository, "grantedBy": found}
        if unrecognised:
            check["conditionNotRecognised"] = unrecognised
        self.checks.append(check)
        if found:
            return True
        message = iam.denied_message(permission, repository)
        self.text(403, "Forbidden: %s" % message, user, reason="Forbidden")
        return False

    def respond(self, status, body, content_type, user, extra=None, headers=None, reason=None):
        record = {"ts": now(), "method": self.command, "path": self.path, "status": status, "user": user}
        if getattr(self, "member", None):
            record["identity"] = self.member
        if getattr(self, "checks", None):
            record["iam"] = self.checks
        if extra:
            record.update(extra)
        self.server.log.write(record)
        self.send_bytes(status, body, content_type, headers=headers, reason=reason)

    def text(self, status, message, user, **kw):
        self.respond(status, (message + "\n").encode("utf-8"), "text/plain; charset=utf-8", user, **kw)

    # --- routes ----------------------------------------------------------
    def repository(self):
        """(prefix, repository, path inside it): the repository the request path names."""
        path = urllib.parse.urlsplit(self.path).path
        match = re.match(r"/([^/]+)(/.*)?\Z", path)
        if match and match.group(1) in self.server.repositories:
            return "/" + match.group(1), self.server.repositories[match.group(1)], match.group(2) or "/"
        return "", self.server.repositories[STANDARD], path

    def do_GET(self):  # noqa: N802
        prefix, repo, path = self.repository()
        user, ok = self.auth_user()
        if not ok and not repo.public:
            return self.unauthorized(user)
        if not self.authorized("artifactregistry.repositories.downloadArtifacts", user, repo):
            return None
        if path == "/simple/" or path == "/simple":
            if path == "/simple":
                return self.redirect(prefix + "/simple/", user)
            return self.simple_root(repo, prefix, user)
        match = re.fullmatch(r"/simple/([^/]+)(/?)", path)
        if match:
            name, slash = match.group(1), match.group(2)
            name = urllib.parse.unquote(name)
            if normalize(name) != name or not slash:
                return self.redirect("%s/simple/%s/" % (prefix, normalize(name)), user)
            return self.simple_project(repo, prefix, name, user)
        match = re.fullmatch(r"/packages/(?:([^/]+)/)?([^/]+)", path)
        if match:
            return self.package_file(repo, match.group(1), urllib.parse.unquote(match.group(2)), user)
        return self.text(404, "Not Found: %s" % path, user)

    do_HEAD = do_GET

    def do_POST(self):  # noqa: N802
        body = self.read_body()
        _, repo, path = self.repository()
        user, ok = self.auth_user()
        if not ok:
            return self.unauthorized(user)
        if not self.authorized("artifactregistry.repositories.uploadArtifacts", user, repo):
            return None
        if path not in ("/", "/legacy/"):
            return self.text(404, "Not Found: %s" % path, user)
        if repo.store is None:
            # Remote and virtual repositories are read-only; uploads go to a standard one.
            return self.text(400, "Bad Request: %s is a %s repository, which takes no uploads" % (repo.name, repo.mode), user)
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            return self.text(400, "Bad Request: expected multipart/form-data", user)
        fields = parse_multipart(content_type, body)
        if fields.get(":action") != "file_upload":
            return self.text(400, "Bad Request: unsupported :action %r" % fields.get(":action"), user)
        name, version = fields.get("name", ""), fields.get("version", "")
        content = fields.get("content")
        if not name or not version or not isinstance(content, tuple):
            return self.text(400, "Bad Request: name, version and content are required", user)
        filename, data = content
        filename = os.path.basename(filename)
        digest = hashlib.sha256(data).hexdigest()
        info = {"upload": {"name": name, "version": version, "filename": filename, "size": len(data), "sha256": digest}}
        if not filename or filename.startswith("."):
            return self.text(400, "Bad Request: invalid filename", user, extra=info)
        expected = fields.get("sha256_digest", "").strip().lower()
        if expected and expected != digest:
            message = "Bad Request: sha256_digest does not match the content of %s" % filename
            return self.text(400, message, user, extra=info, reason=message)
        expected_md5 = fields.get("md5_digest", "").strip().lower()
        if expected_md5 and expected_md5 != hashlib.md5(data).hexdigest():  # noqa: S324 (checksum, as PyPI)
            message = "Bad Request: md5_digest does not match the content of %s" % filename
            return self.text(400, message, user, extra=info, reason=message)
        error = repo.store.add(name, version, filename, data, fields.get("requires_python", ""))
        if error:
            # Artifact Registry answers 400 and twine's --skip-existing looks
            # for "already exist" in the reason or the body.
            message = "Bad Request: %s in the repository" % error
            return self.text(400, message, user, extra=info, reason=message)
        return self.text(200, "OK", user, extra=info)

    def do_PUT(self):  # noqa: N802
        self.read_body()
        user, ok = self.auth_user()
        if not ok:
            return self.unauthorized(user)
        return self.text(405, "Method Not Allowed", user)

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    # --- route bodies ----------------------------------------------------
    def unauthorized(self, user):
        self.text(401, "Unauthorized", user, headers={"WWW-Authenticate": 'Basic realm="pypi"'})

    def redirect(self, location, user):
        self.respond(301, b"", "text/plain", user, headers={"Location": location})

    def simple_root(self, repo, prefix, user):
        names = repo.project_names()
        links = "\n".join('    <a href="%s/simple/%s/">%s</a><br/>' % (prefix, n, html.escape(n)) for n in names)
        page = "<!DOCTYPE html>\n<html>\n  <head><title>Simple Index</title></head>\n  <body>\n%s\n  </body>\n</html>\n" % links
        self.respond(200, page.encode("utf-8"), "text/html; charset=utf-8", user)

    def simple_project(self, repo, prefix, name, user):
        files = repo.files(name)
        if files is None:
            return self.text(404, "Not Found: project %s" % name, user)
        rows = []
        for filename in sorted(files):
            meta, source = files[filename]
            link = "%s/packages/%s%s" % (prefix, source + "/" if source else "", urllib.parse.quote(filename))
            attr = ""
            if meta.get("requires_python"):
                attr = ' data-requires-python="%s"' % html.escape(meta["requires_python"], quote=True)
            rows.append('    <a href="%s#sha256=%s"%s>%s</a><br/>' % (link, meta["sha256"], attr, html.escape(filename)))
        page = (
            "<!DOCTYPE html>\n<html>\n  <head><title>Links for %s</title></head>\n  <body>\n"
            "    <h1>Links for %s</h1>\n%s\n  </body>\n</html>\n" % (name, name, "\n".join(rows))
        )
        self.respond(200, page.encode("utf-8"), "text/html; charset=utf-8", user)

    def package_file(self, repo, source, filename, user):
        path = repo.find_file(source, filename)
        if not path or not os.path.exists(path):
            return self.text(404, "Not Found: %s" % filename, user)
        with open(path, "rb") as f:
            data = f.read()
        self.respond(200, data, "application/octet-stream", user)


def publish_buildpack_wheels(store):
    """What PyPI has and a function build needs offline: stand-in wheels (no dependencies) of the
    buildpack's pinned functions-framework requirements, and of functions-framework as PyPI has it:
    the stand-in of functions-framework itself (functions_framework/), which a function's tests import."""
    with tempfile.TemporaryDirectory() as work:
        for name, version in python_buildpack.public_wheels():
            if (name, version) == ("functions-framework", build_standin_wheel.VERSION):
                wheel = str(build_standin_wheel.build(os.path.join(work, "framework")))
            else:
                wheel, _ = make_wheel(work, name, version)
            with open(wheel, "rb") as f:
                store.add(name, version, os.path.basename(wheel), f.read(), ">=3.8")  # an error: published already


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", help="write the chosen port to this file once listening")
    parser.add_argument("--data-dir", required=True, help="stored distributions, index.json and requests.jsonl")
    parser.add_argument("--token", action="append", default=[],
                        help="an accepted password for user oauth2accesstoken, allowed everything (repeatable)")
    parser.add_argument("--iam-state", help="google_apis.py's state.json: stand-in tokens are accepted and IAM decides")
    parser.add_argument("--repository", help="with --iam-state: this repository's name, projects/P/locations/L/repositories/R")
    parser.add_argument("--remote", action="append", default=[], metavar="NAME",
                        help="a PyPI remote repository at /NAME/ (reads the stand-in's PyPI at /pypi/)")
    parser.add_argument("--virtual", action="append", default=[], metavar="NAME=UPSTREAM:PRIORITY,...",
                        help="a virtual repository at /NAME/; UPSTREAM is `standard` or a remote's NAME")
    args = parser.parse_args(argv)
    if not args.token and not args.iam_state:
        parser.error("give --token, or --iam-state with --repository")
    if args.iam_state and not re.fullmatch(r"projects/[^/]+/locations/[^/]+/repositories/[^/]+", args.repository or ""):
        parser.error("--iam-state needs --repository projects/P/locations/L/repositories/R")

    os.makedirs(args.data_dir, exist_ok=True)
    server = make_server(Handler)
    server.tokens = set(args.token)
    server.iam_state = args.iam_state
    server.repository = args.repository
    server.index = Index(args.data_dir)
    public = Repository(PUBLIC, "public", Index(os.path.join(args.data_dir, PUBLIC)), public=True)
    publish_buildpack_wheels(public.store)
    repositories = {STANDARD: Repository(STANDARD, "standard", server.index), PUBLIC: public}
    for name in args.remote:
        repositories[name] = Repository(name, "remote", upstreams=[(0, PUBLIC, public)])
    for spec in args.virtual:
        name, _, ups = spec.partition("=")
        upstreams = []
        for up in ups.split(","):
            key, _, priority = up.partition(":")
            key = STANDARD if key == "standard" else key
            if key not in repositories or repositories[key].mode not in ("standard", "remote"):
                parser.error("--virtual %s: upstream %r is neither standard nor a --remote" % (spec, up))
            upstreams.append((int(priority or 0), key, repositories[key]))
        repositories[name] = Repository(name, "virtual", upstreams=upstreams)
    server.repositories = repositories
    server.log = RequestLog(os.path.join(args.data_dir, "requests.jsonl"))
    if args.iam_state:
        # The Google stand-in whose state this index reads finds its PyPI here (function builds).
        # "localhost", not 127.0.0.1: PyPI's host is not an index host, so the build's .netrc stays off it.
        announce = os.path.join(os.path.dirname(os.path.abspath(args.iam_state)), "pypi-url")
        with open(announce + ".tmp", "w", encoding="utf-8") as f:
            f.write("http://localhost:%d/%s/simple/\n" % (server.server_address[1], PUBLIC))
        os.replace(announce + ".tmp", announce)
    return serve(server, "pypi_index", args.port_file)


if __name__ == "__main__":
    sys.exit(main())
