#!/usr/bin/env python3
"""schemathesis against the running service, from the OpenAPI document it serves.

    python3 tests/api-conformance/run.py PATH_TO_PROPUSK_BINARY [--database-url URL]
        [--schemathesis PATH] [--max-examples N]

Starts `propusk serve` in a temp data dir on 127.0.0.1:0 (on a fresh PostgreSQL database
with --database-url), makes one account per audience (a resident signed in by SMS code
with a profile and a pass; an inspector, a health officer and an administrator made with
`propusk user add`; a patient's phone enrolled in a case a health officer opened), and runs schemathesis once per
audience with its token over the operations that audience may call. Every check that
compares the service with its document is on: no 5xx, status codes, content types,
headers and bodies as documented. Exits non-zero on any failure.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid


def http(method: str, url: str, body=None, token: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def expect(what: str, status: int, body: bytes, wanted: int):
    if status != wanted:
        sys.exit(f"setup failed: {what}: {status} {body.decode(errors='replace')}")
    return json.loads(body) if body else None


def option(args: list[str], name: str, default=None):
    return args[args.index(name) + 1] if name in args else default


def main() -> int:
    binary = os.path.abspath(sys.argv[1])
    args = sys.argv[2:]
    st = option(args, "--schemathesis", "schemathesis")
    max_examples = option(args, "--max-examples", "25")
    db_args: list[str] = []
    if "--database-url" in args:
        url = option(args, "--database-url")
        name = "propusk_conformance_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", url, "-qc", f"CREATE DATABASE {name}"], check=True)
        db_args = ["--database-url", url.rsplit("/", 1)[0] + "/" + name]
    work = tempfile.mkdtemp(prefix="propusk-conformance-")
    data_dir = os.path.join(work, "data")
    password = "a long enough password"
    for role in ("inspector", "health", "admin"):
        add = subprocess.run([binary, "user", "add", "--data-dir", data_dir, *db_args, "--role", role,
                              "--username", role, "--password-stdin"],
                             input=(password + "\n").encode(), capture_output=True)
        if add.returncode != 0:
            sys.exit(f"setup failed: user add {role}: {add.stderr.decode()}")
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [binary, "serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0", *db_args],
        stdout=subprocess.PIPE, stderr=log, env={**os.environ, "PROPUSK_LOG": "info"},
    )
    failed: list[str] = []
    try:
        base = None
        deadline = time.time() + 60
        while time.time() < deadline and base is None:
            m = re.search(r"(http://127\.0\.0\.1:\d+)/", proc.stdout.readline().decode())
            if m:
                base = m.group(1)
        if base is None:
            sys.exit("setup failed: the service printed no URL")

        tokens = {}
        for role in ("inspector", "health", "admin"):
            s, b = http("POST", f"{base}/api/v1/auth/login", {"username": role, "password": password})
            tokens[role] = expect(f"{role} signs in", s, b, 200)["token"]

        phone = "+7916" + str(uuid.uuid4().int % 10**7).zfill(7)
        expect("code asked", *http("POST", f"{base}/api/v1/auth/otp", {"phone": phone}), 202)
        code = None
        for _ in range(100):
            with open(log_path, encoding="utf-8", errors="replace") as f:
                found = re.findall(rf"sms to={re.escape(phone)} .*?text=.*?(\d{{6}})", f.read())
            if found:
                code = found[-1]
                break
            time.sleep(0.1)
        s, b = http("POST", f"{base}/api/v1/auth/otp/verify", {"phone": phone, "code": code})
        tokens["resident"] = expect("resident signs in", s, b, 200)["token"]
        profile = {
            "full_name": "Смирнова Ольга Викторовна",
            "document": {"type": "passport_ru", "number": "4508 765432"},
            "home": {"address": "Москва, Ленинский пр., 10", "lat": 55.71, "lon": 37.59},
        }
        expect("profile", *http("PUT", f"{base}/api/v1/me", profile, tokens["resident"]), 200)
        expect("a pass", *http("POST", f"{base}/api/v1/passes", {"purpose": "shopping"}, tokens["resident"]), 201)

        # A patient's phone, enrolled in a case the health officer opens now.
        now = time.time()
        stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
        case = {
            "phone": "+7916" + str(uuid.uuid4().int % 10**7).zfill(7), "full_name": "Сидорова Анна Павловна",
            "home": {"address": "Москва, ул. Тверская, 1, кв. 5", "lat": 55.7575, "lon": 37.613},
            "starts_at": stamp(now - 60), "ends_at": stamp(now + 14 * 86400),
        }
        s, b = http("POST", f"{base}/api/v1/cases", case, tokens["health"])
        code = expect("a case", s, b, 201)["enrollment_code"]
        s, b = http("POST", f"{base}/api/v1/device/enroll", {"enrollment_code": code})
        tokens["device"] = expect("the phone enrolls", s, b, 201)["device_token"]

        schema = f"{base}/api/v1/openapi.json"
        with urllib.request.urlopen(schema) as r:
            doc = json.load(r)
        # Signing out ends the token the other operations need: it goes last, on its own.
        logout = ("/api/v1/auth/logout", "post")
        plan = list(tokens.items()) + [("sign-out", tokens["resident"])]
        for audience, token in plan:
            # The operations this audience may call: its role among the security scopes
            # (public ones with the resident).
            def allowed(req: dict) -> bool:
                if audience == "device":
                    return "deviceAuth" in req
                return audience in req.get("bearerAuth", []) or (not req and audience == "resident")
            ops = [(path, method) for path, item in doc["paths"].items()
                   for method, o in item.items() if isinstance(o, dict) and "responses" in o
                   and (path, method) != logout
                   and any(allowed(req) for req in o.get("security", doc.get("security", [])) or [{}])]
            if audience == "sign-out":
                ops = [logout]
            if not ops:
                continue
            regex = "^(" + "|".join(re.escape(f"{m.upper()} {p}") for p, m in ops) + ")$"
            print(f"\n=== schemathesis as {audience}: {len(ops)} operations", flush=True)
            hooks = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hooks.py")
            run = subprocess.run([
                st, "run", schema, "--url", base, "--checks", "all",
                "--exclude-checks", "ignored_auth,positive_data_acceptance",
                "--max-examples", max_examples, "--seed", "1", "--no-color",
                "--header", f"Authorization: Bearer {token}",
                "--include-name-regex", regex,
                "--workers", "2", "--request-timeout", "20", "--generation-database", "none",
            ], env={**os.environ, "SCHEMATHESIS_HOOKS": hooks})
            if run.returncode != 0:
                failed.append(audience)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if failed:
        print(f"api-conformance: failures as {', '.join(failed)}; the service's log: {log_path}")
        return 1
    print("api-conformance: no failure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
