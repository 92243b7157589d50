#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Keystone and Barbican for nvirt's functional tests, from Debian packages.

Usage: barbican-fixture.py DIR [TOKEN_LIFETIME]

Starts Keystone (sqlite, fernet) and Barbican (sqlite, simple_crypto,
keystonemiddleware) as wsgiref processes on free 127.0.0.1 ports with
everything under DIR, creates the identity objects the tests use, prints one
JSON line describing them (also in DIR/fixture.json), then serves commands on
the Unix socket DIR/control.sock, one per connection: a line, answered with
one JSON line:

  store             the next line is a key in hex; stores it as a Barbican
                    secret (through the REST API, as cinder) -> {"id": UUID}
  stop-barbican     stop Barbican (its port then refuses connections)
  start-barbican    start it again, same port and database
  nova-token        -> {"token": a token of nova's, scoped to project bar}
  revoke-nova       revoke every token of user nova (disable, enable)

End of stdin stops both services and reaps them.  Keys travel over the
control socket only: never argv, environment or a file.  The recipe and its pitfalls are in
docs of the project (shared/reference/barbican.md): sqlite WAL, the internal
identity endpoint, HOME for Barbican's crypto plugin config, db_auto_create.
"""
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

DIR = os.path.abspath(sys.argv[1])
LIFETIME = int(sys.argv[2]) if len(sys.argv) > 2 else 3600


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


KS_PORT, BB_PORT = free_port(), free_port()
KS = "http://127.0.0.1:%d/v3" % KS_PORT
BB = "http://127.0.0.1:%d" % BB_PORT
ADMIN_PW = secrets.token_hex(16)
PW = {u: secrets.token_hex(16) for u in ("barbican", "cinder", "nova", "eve")}
START = time.monotonic()


def write(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def setup_keystone():
    d = DIR
    write(os.path.join(d, "keystone.conf"), f"""[DEFAULT]
log_file = {d}/keystone.log
[database]
connection = sqlite:///{d}/keystone.db
[fernet_tokens]
key_repository = {d}/fernet-keys
[fernet_receipts]
key_repository = {d}/fernet-keys
[credential]
key_repository = {d}/credential-keys
[identity]
password_hash_rounds = 4
[token]
expiration = {LIFETIME}
""")
    km = ["keystone-manage", "--config-file", d + "/keystone.conf"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
    subprocess.run(km + ["db_sync"], **quiet)
    for step in ("fernet_setup", "credential_setup"):
        subprocess.run(km + [step, "--keystone-user", "root", "--keystone-group", "root"],
                       **quiet)
    env = dict(os.environ, OS_BOOTSTRAP_PASSWORD=ADMIN_PW)
    subprocess.run(km + ["bootstrap", "--bootstrap-username", "admin",
                         "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                         "--bootstrap-service-name", "keystone",
                         "--bootstrap-region-id", "RegionOne",
                         "--bootstrap-public-url", KS, "--bootstrap-internal-url", KS,
                         "--bootstrap-admin-url", KS], env=env, **quiet)
    import sqlite3
    sqlite3.connect(d + "/keystone.db").execute("pragma journal_mode=wal").close()


SERVE_KEYSTONE = """
import sys, wsgiref.simple_server
sys.argv[1:] = []
import keystone.server.wsgi
app = keystone.server.wsgi.initialize_public_application()
wsgiref.simple_server.make_server("127.0.0.1", %d, app).serve_forever()
"""

SERVE_BARBICAN = """
import sys, wsgiref.simple_server
sys.argv[1:] = []
from paste import deploy
app = deploy.loadapp("config:%s")
wsgiref.simple_server.make_server("127.0.0.1", %d, app).serve_forever()
"""

PASTE = """[composite:main]
use = egg:Paste#urlmap
/: barbican_version
/v1: barbican_api

[pipeline:barbican_version]
pipeline = microversion versionapp

[pipeline:barbican_api]
pipeline = authtoken context microversion apiapp

[app:apiapp]
paste.app_factory = barbican.api.app:create_main_app

[app:versionapp]
paste.app_factory = barbican.api.app:create_version_app

[filter:context]
paste.filter_factory = barbican.api.middleware.context:ContextMiddleware.factory

[filter:microversion]
paste.filter_factory = barbican.api.middleware.microversion:MicroversionMiddleware.factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
"""


def setup_barbican():
    home = DIR + "/bbhome"
    os.makedirs(home + "/.barbican", exist_ok=True)
    kek = base64.b64encode(secrets.token_bytes(32)).decode()
    write(home + "/.barbican/barbican.conf", f"""[DEFAULT]
sql_connection = sqlite:///{DIR}/barbican.db
db_auto_create = True
host_href = {BB}
log_file = {DIR}/barbican.log
[secretstore]
enabled_secretstore_plugins = store_crypto
[crypto]
enabled_crypto_plugins = simple_crypto
[simple_crypto_plugin]
kek = {kek}
[keystone_authtoken]
www_authenticate_uri = {KS}
auth_url = {KS}
auth_type = password
username = barbican
password = {PW["barbican"]}
user_domain_name = Default
project_name = service
project_domain_name = Default
token_cache_time = -1
""")
    write(DIR + "/barbican-api-paste.ini", PASTE)


procs = {}


def start(name, code, env=None):
    log = open(os.path.join(DIR, name + "-access.log"), "ab")
    procs[name] = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, env=env)
    log.close()


def start_barbican():
    env = dict(os.environ, HOME=DIR + "/bbhome")
    start("barbican", SERVE_BARBICAN % (DIR + "/barbican-api-paste.ini", BB_PORT), env)


def stop(name):
    p = procs.pop(name, None)
    if p:
        p.terminate()
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def http(method, url, body=None, token=None, ok=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            raw = r.read()
            return r.status, r.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        if e.code in ok:
            return e.code, e.headers, None
        raise RuntimeError("%s %s: HTTP %d %s" % (method, url, e.code, e.read()[:300]))


def wait_ready(url, proc_name, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if procs[proc_name].poll() is not None:
            raise RuntimeError("%s exited with %d" % (proc_name, procs[proc_name].returncode))
        try:
            urllib.request.urlopen(url, timeout=10).close()
            return
        except urllib.error.HTTPError:
            return  # it answers (Barbican's GET / is 300)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("%s did not answer within %d s" % (proc_name, timeout))


def token(user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    _, headers, _ = http("POST", KS + "/auth/tokens", body)
    return headers["X-Subject-Token"]


def create_objects():
    adm = token("admin", ADMIN_PW, "admin")
    ids, projects, roles = {}, {}, {}
    for p in ("service", "bar"):
        _, _, r = http("POST", KS + "/projects", {"project": {"name": p, "domain_id": "default"}},
                       adm)
        projects[p] = r["project"]["id"]
    for role in ("creator", "observer", "service"):
        _, _, r = http("POST", KS + "/roles", {"role": {"name": role}}, adm)
        roles[role] = r["role"]["id"]
    _, _, r = http("GET", KS + "/roles?name=member", None, adm)
    roles["member"] = r["roles"][0]["id"]
    for user in PW:
        _, _, r = http("POST", KS + "/users", {"user": {"name": user, "domain_id": "default",
                                                        "password": PW[user]}}, adm)
        ids[user] = r["user"]["id"]
    grants = [("barbican", "service", "service"), ("cinder", "bar", "creator"),
              ("cinder", "bar", "member"), ("nova", "bar", "observer"),
              ("nova", "bar", "member"), ("eve", "bar", "member")]
    for user, project, role in grants:
        http("PUT", "%s/projects/%s/users/%s/roles/%s" % (KS, projects[project], ids[user],
                                                           roles[role]), None, adm)
    _, _, r = http("POST", KS + "/services", {"service": {"name": "barbican",
                                                          "type": "key-manager"}}, adm)
    http("POST", KS + "/endpoints", {"endpoint": {"service_id": r["service"]["id"],
                                                  "interface": "public", "url": BB,
                                                  "region_id": "RegionOne"}}, adm)
    nova = token("nova", PW["nova"], "bar")
    _, _, r = http("POST", "%s/users/%s/application_credentials" % (KS, ids["nova"]),
                   {"application_credential": {"name": "nvirt"}}, nova)
    return ids, r["application_credential"]


def store(hex_key):
    cinder = token("cinder", PW["cinder"], "bar")
    body = {"payload": base64.b64encode(bytes.fromhex(hex_key)).decode(),
            "payload_content_type": "application/octet-stream",
            "payload_content_encoding": "base64", "algorithm": "aes",
            "bit_length": len(hex_key) * 4, "secret_type": "symmetric"}
    _, _, r = http("POST", BB + "/v1/secrets", body, cinder)
    return r["secret_ref"].rsplit("/", 1)[1]


def revoke_nova(ids):
    adm = token("admin", ADMIN_PW, "admin")
    for enabled in (False, True):
        http("PATCH", "%s/users/%s" % (KS, ids["nova"]), {"user": {"enabled": enabled}}, adm)
    # Fernet tokens carry whole seconds: one issued in the revocation's
    # second would look older than it and count as revoked.
    time.sleep(1.5)


def command(cmd, rfile, ids):
    if cmd == "store":
        return {"id": store(rfile.readline().decode().strip())}
    if cmd == "stop-barbican":
        stop("barbican")
        return {"ok": True}
    if cmd == "start-barbican":
        start_barbican()
        wait_ready(BB + "/", "barbican")
        return {"ok": True}
    if cmd == "nova-token":
        return {"token": token("nova", PW["nova"], "bar")}
    if cmd == "revoke-nova":
        revoke_nova(ids)
        return {"ok": True}
    return {"error": "unknown command %r" % cmd}


def serve_commands(ids):
    """One command per connection on DIR/control.sock (tests run in
    criterion's worker processes, not in the process that started us)."""
    import socketserver
    import threading

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            try:
                reply = command(self.rfile.readline().decode().strip(), self.rfile, ids)
            except Exception as e:
                reply = {"error": "%s: %s" % (type(e).__name__, e)}
            self.wfile.write((json.dumps(reply) + "\n").encode())

    path = DIR + "/control.sock"
    server = socketserver.UnixStreamServer(path, Handler)
    os.chmod(path, 0o600)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main():
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    try:
        setup_keystone()
        setup_barbican()
        start("keystone", SERVE_KEYSTONE % KS_PORT,
              dict(os.environ, OS_KEYSTONE_CONFIG_FILES=DIR + "/keystone.conf"))
        wait_ready(KS, "keystone")
        start_barbican()
        ids, appcred = create_objects()
        wait_ready(BB + "/", "barbican")
        info = {"keystone": KS, "barbican": BB, "passwords": PW,
                "app_cred_id": appcred["id"], "app_cred_secret": appcred["secret"],
                "token_lifetime": LIFETIME,
                "startup_seconds": round(time.monotonic() - START, 1)}
        write(DIR + "/fixture.json", json.dumps(info))
        serve_commands(ids)
        print(json.dumps(info), flush=True)
        sys.stdin.read()  # until the test binary closes our stdin (or exits)
    except Exception as e:  # one line for the C fixture to fail with
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}), flush=True)
        return 1
    finally:
        for name in list(procs):
            stop(name)
    # Also when the test binary was killed and could not clean up; after a
    # failure the directory stays, for its logs.
    shutil.rmtree(DIR, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
