"""A small Hugging Face Hub protocol server on 127.0.0.1, for push/pull round trips in tests.

It speaks the part of the Hub HTTP API that ``huggingface_hub`` uses to create a repository,
commit files to it and download them again, so the real client runs on both sides with
``HF_ENDPOINT`` pointed here:

* ``POST /api/repos/create``, ``POST /api/models/{repo}/branch/{branch}``;
* ``POST /api/models/{repo}/preupload/{rev}`` (every file "regular": content rides the commit),
  ``POST /api/validate-yaml``, ``POST /api/models/{repo}/commit/{rev}`` (NDJSON);
* ``GET /api/models/{repo}[/revision/{rev}]``, ``GET /api/models/{repo}/tree/{rev}[/{path}]``,
  ``POST /api/models/{repo}/paths-info/{rev}``;
* ``HEAD``/``GET /{repo}/resolve/{rev}/{path}`` with ``ETag``, ``X-Repo-Commit`` and size.

Spaces take the same routes under ``/api/spaces/`` and ``/spaces/``; the state keys them as
``spaces/{repo}``.

Writes need ``Authorization: Bearer <token>`` with the server's token; private repositories
need it for reads too. Everything is kept in memory; ``requests`` records each request line so
tests can see what the client did.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


def git_blob_oid(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Repo:
    private: bool
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit oid
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit oid -> {path: content}
    messages: dict[str, str] = field(default_factory=dict)  # commit oid -> summary

    def resolve(self, revision: str) -> str | None:
        return self.branches.get(revision) or (revision if revision in self.commits else None)


class HubState:
    def __init__(self, token: str):
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()

    def new_commit(self, repo: Repo, files: dict[str, bytes], message: str, parent: str | None) -> str:
        oid = hashlib.sha1(f"{parent}:{message}:{time.time_ns()}".encode()
                           + b"".join(hashlib.sha1(p.encode() + c).digest()
                                       for p, c in sorted(files.items()))).hexdigest()
        repo.commits[oid] = files
        repo.messages[oid] = message
        return oid


class _Handler(BaseHTTPRequestHandler):
    state: HubState  # set on the subclass made per server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    # ---- plumbing ------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload, headers: dict | None = None):
        self._send(status, json.dumps(payload).encode(), headers)

    def _error(self, status: int, message: str, code: str | None = None):
        self._json(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message} if code else None)

    def _body(self) -> bytes:
        return self.body

    def _authorised(self) -> bool:
        return self.headers.get("Authorization", "") == f"Bearer {self.state.token}"

    def _repo(self, repo_id: str, write: bool = False) -> Repo | None:
        repo = self.state.repos.get(repo_id)
        if repo is None or ((write or repo.private) and not self._authorised()):
            # The Hub answers 401 + RepoNotFound alike for missing and forbidden repositories.
            self._error(401 if not self._authorised() else 404, f"Repository Not Found for url: {self.path}",
                        "RepoNotFound")
            return None
        return repo

    # ---- routing -------------------------------------------------------------------------------

    def do_HEAD(self):
        self._route()

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def _route(self):
        # Read the whole body first: an unread body would corrupt the next request on this connection.
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        with self.state.lock:
            self.state.requests.append(f"{self.command} {url.path}")
        try:
            if parts[:3] == ["api", "repos", "create"] and self.command == "POST":
                return self._create_repo()
            if parts[:2] == ["api", "validate-yaml"]:
                return self._json(200, {"errors": [], "warnings": []})
            if parts[:2] == ["api", "whoami-v2"]:
                if not self._authorised():
                    return self._error(401, "Invalid credentials")
                return self._json(200, {"type": "user", "name": "test-user", "auth": {"type": "access_token"}})
            if parts[:2] == ["api", "models"] and len(parts) >= 4:
                return self._api(f"{parts[2]}/{parts[3]}", parts[4:], url.query)
            if parts[:2] == ["api", "spaces"] and len(parts) >= 4:
                return self._api(f"spaces/{parts[2]}/{parts[3]}", parts[4:], url.query)
            if len(parts) >= 5 and parts[2] == "resolve" and self.command in ("GET", "HEAD"):
                return self._resolve(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]))
            if len(parts) >= 6 and parts[0] == "spaces" and parts[3] == "resolve" and self.command in ("GET", "HEAD"):
                return self._resolve(f"spaces/{parts[1]}/{parts[2]}", parts[4], "/".join(parts[5:]))
            self._error(404, f"no route for {self.command} {url.path}")
        except Exception as err:  # a server bug must show up in the test, not hang the client
            self._error(500, f"{type(err).__name__}: {err}")

    def _create_repo(self):
        if not self._authorised():
            return self._error(401, "Invalid credentials in Authorization header")
        payload = json.loads(self._body() or b"{}")
        repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else payload["name"]
        if "/" not in repo_id:
            repo_id = f"test-user/{repo_id}"
        if payload.get("type") == "space":  # spaces live beside models under their own prefix, as on the Hub
            if not payload.get("sdk"):
                return self._error(400, "a Space needs an sdk")
            repo_id = f"spaces/{repo_id}"
        url = f"http://{self.headers['Host']}/{repo_id}"
        with self.state.lock:
            if repo_id in self.state.repos:
                return self._json(409, {"error": "You already created this model repo", "url": url})
            repo = Repo(private=bool(payload.get("private")) or payload.get("visibility") == "private")
            repo.branches["main"] = self.state.new_commit(repo, {".gitattributes": b""}, "initial commit", None)
            self.state.repos[repo_id] = repo
        self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _api(self, repo_id: str, rest: list[str], query: str):
        write = self.command == "POST" and rest[:1] in (["commit"], ["branch"], ["preupload"])
        repo = self._repo(repo_id, write=write)
        if repo is None:
            return
        action = rest[0] if rest else "revision"
        revision = rest[1] if len(rest) > 1 else "main"
        if action == "branch" and self.command == "POST":
            payload = json.loads(self._body() or b"{}")
            with self.state.lock:
                if revision in repo.branches:
                    return self._error(409, f"Reference already exists: refs/heads/{revision}")
                start = repo.resolve(payload.get("startingPoint") or "main")
                repo.branches[revision] = start
            return self._json(200, {})
        head = repo.resolve(revision)
        if head is None:
            return self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        files = repo.commits[head]
        if action == "revision":
            return self._json(200, {"id": repo_id, "modelId": repo_id, "sha": head, "private": repo.private,
                                    "siblings": [{"rfilename": p} for p in sorted(files)], "tags": [],
                                    "lastModified": "2026-01-01T00:00:00.000Z"})
        if action == "tree":
            prefix = "/".join(rest[2:])
            recursive = parse_qs(query).get("recursive", ["false"])[0] in ("true", "True", "1")
            return self._json(200, self._entries(files, prefix, recursive))
        if action == "paths-info" and self.command == "POST":
            body = self._body().decode()
            wanted = (json.loads(body)["paths"] if body.startswith("{") else parse_qs(body).get("paths", []))
            return self._json(200, [e for e in self._entries(files, "", True) if e["path"] in wanted])
        if action == "preupload" and self.command == "POST":
            payload = json.loads(self._body())
            return self._json(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                                               "oid": git_blob_oid(files[f["path"]]) if f["path"] in files else None}
                                              for f in payload["files"]]})
        if action == "commit" and self.command == "POST":
            return self._commit(repo_id, repo, revision, head)
        self._error(404, f"no route for {self.command} api/models/{repo_id}/{'/'.join(rest)}")

    @staticmethod
    def _entries(files: dict[str, bytes], prefix: str, recursive: bool) -> list[dict]:
        entries, folders = [], set()
        for path, content in sorted(files.items()):
            if prefix and not path.startswith(prefix.rstrip("/") + "/"):
                continue
            relative = path[len(prefix.rstrip("/")) + 1:] if prefix else path
            if "/" in relative and not recursive:
                folder = (prefix.rstrip("/") + "/" if prefix else "") + relative.split("/")[0]
                if folder not in folders:
                    folders.add(folder)
                    entries.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": folder})
                continue
            entries.append({"type": "file", "oid": git_blob_oid(content), "size": len(content), "path": path})
        return entries

    def _commit(self, repo_id: str, repo: Repo, revision: str, head: str):
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        header = next(line["value"] for line in lines if line["key"] == "header")
        files = dict(repo.commits[head])
        for line in lines:
            key, value = line["key"], line["value"]
            if key == "file":
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                files = {p: c for p, c in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
            elif key == "lfsFile":
                return self._error(400, "this test server stores every file as a regular blob")
        with self.state.lock:
            oid = self.state.new_commit(repo, files, header["summary"], head)
            if revision in repo.branches:
                repo.branches[revision] = oid
        url = f"http://{self.headers['Host']}/{repo_id}/commit/{oid}"
        self._json(200, {"commitUrl": url, "commitOid": oid, "success": True, "pullRequestUrl": None})

    def _resolve(self, repo_id: str, revision: str, path: str):
        repo = self._repo(repo_id)
        if repo is None:
            return
        head = repo.resolve(revision)
        if head is None:
            return self._error(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        content = repo.commits[head].get(path)
        if content is None:
            return self._error(404, f"Entry not found: {path}", "EntryNotFound")
        self._send(200, content, {"ETag": f'"{git_blob_oid(content)}"', "X-Repo-Commit": head},
                   content_type="application/octet-stream")


class HubServer:
    """``with HubServer(token) as hub: ... hub.endpoint ...``; serves on a free port of 127.0.0.1."""

    def __init__(self, token: str):
        self.state = HubState(token)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "HubServer":
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        repo = self.state.repos[repo_id]
        return repo.commits[repo.resolve(revision)]
