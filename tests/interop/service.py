#!/usr/bin/env python3
"""The running service, driven over HTTP as a new client would, with passes
checked by the independent Python verifier (pytoken.py) using only the JWKS
the service publishes.

    python3 tests/interop/service.py PATH_TO_PROPUSK_BINARY [--database-url URL]

Starts `propusk serve` in a temp data dir on 127.0.0.1:0 (on PostgreSQL with
--database-url), signs a resident in with the SMS code read from the log,
fills the profile, gets a shopping pass, verifies its token with pytoken,
checks the QR PNG and SVG, has an inspector (made with `propusk user add`)
check the short code, cancels the pass and sees it revoked in the published
list and by pytoken with that list; then stops the service with SIGTERM and
expects a clean exit. Prints `service-interop: N passed, M failed`.
"""

from __future__ import annotations

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytoken as pt  # noqa: E402

PASSED = 0
FAILED: list[str] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    global PASSED
    if ok:
        PASSED += 1
    else:
        FAILED.append(f"{name}: {detail}")
        print(f"FAIL {name}: {detail}", file=sys.stderr)


def http(method: str, url: str, body=None, token: str | None = None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def main() -> int:
    binary = os.path.abspath(sys.argv[1])
    args = sys.argv[2:]
    db_args = []
    if "--database-url" in args:
        url = args[args.index("--database-url") + 1]
        # A fresh database on that server, so the run starts empty.
        name = "propusk_interop_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", url, "-qc", f"CREATE DATABASE {name}"], check=True)
        db_args = ["--database-url", url.rsplit("/", 1)[0] + "/" + name]
    work = tempfile.mkdtemp(prefix="propusk-service-")
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [binary, "serve", "--data-dir", os.path.join(work, "data"), "--listen", "127.0.0.1:0", *db_args],
        stdout=subprocess.PIPE, stderr=log, env={**os.environ, "PROPUSK_LOG": "info"},
    )
    try:
        base = None
        deadline = time.time() + 60
        while time.time() < deadline and base is None:
            line = proc.stdout.readline().decode()
            m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
            if m:
                base = m.group(1)
        check("service prints its URL", base is not None, "no URL on stdout")
        if base is None:
            return 1

        def log_text() -> str:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                return f.read()

        phone = "+7916" + str(uuid.uuid4().int % 10**7).zfill(7)
        status, _, _ = http("POST", f"{base}/api/v1/auth/otp", {"phone": phone})
        check("OTP requested", status == 202, str(status))
        code = None
        for _ in range(100):
            m = re.findall(rf"sms to={re.escape(phone)} .*?text=.*?(\d{{6}})", log_text())
            if m:
                code = m[-1]
                break
            time.sleep(0.1)
        check("sign-in code in the log", code is not None, "no sms line")
        status, _, body = http("POST", f"{base}/api/v1/auth/otp/verify", {"phone": phone, "code": code})
        check("signed in", status == 200, body.decode())
        token = json.loads(body)["token"]
        profile = {
            "full_name": "Смирнова Ольга Викторовна",
            "document": {"type": "passport_ru", "number": "4508 765432"},
            "home": {"address": "Москва, Ленинский пр., 10", "lat": 55.71, "lon": 37.59},
        }
        status, _, body = http("PUT", f"{base}/api/v1/me", profile, token)
        check("profile saved", status == 200, body.decode())
        status, _, body = http("POST", f"{base}/api/v1/passes", {"purpose": "shopping"}, token)
        check("shopping pass issued", status == 201, body.decode())
        p = json.loads(body)

        status, _, jwks = http("GET", f"{base}/.well-known/propusk/keys")
        keys = pt.import_jwks(jwks.decode())
        now = int(time.time())
        v = pt.verify_token(p["token"], keys, now)
        check("independent verifier: valid", v.verdict == "valid", str(v))
        c = v.claims or {}
        check("claims match the API", c.get("pass_id") == p["id"] and c.get("purpose") == "shopping"
              and c.get("regime") == "moscow-2020" and c.get("iss") == "RU-MOW", json.dumps(c, ensure_ascii=False))
        check("holder hint only", c.get("holder") == "С.О. 5432", str(c.get("holder")))
        raw = pt.unwrap_qr(p["token"])
        check("no name or document in the token",
              "Смирнова".encode() not in raw and b"4508765432" not in raw and b"765432" not in raw, "leak")

        status, headers, png = http("GET", f"{base}/api/v1/passes/{p['id']}/qr.png", token=token)
        check("QR PNG", status == 200 and png.startswith(b"\x89PNG"), str(status))
        status, headers, svg = http("GET", f"{base}/api/v1/passes/{p['id']}/qr.svg", token=token)
        check("QR SVG", status == 200 and b"<svg" in svg, str(status))

        data_dir = os.path.join(work, "data")
        add = subprocess.run([binary, "user", "add", "--data-dir", data_dir, *db_args, "--role", "inspector",
                              "--username", "officer", "--password-stdin"],
                             input=b"a long enough password\n", capture_output=True)
        check("inspector added", add.returncode == 0, add.stderr.decode())
        status, _, body = http("POST", f"{base}/api/v1/auth/login", {"username": "officer", "password": "a long enough password"})
        check("inspector signed in", status == 200, body.decode())
        staff = json.loads(body)["token"]
        status, _, body = http("POST", f"{base}/api/v1/verify", {"short_code": p["short_code"]}, staff)
        check("short code valid", status == 200 and json.loads(body)["verdict"] == "valid", body.decode())

        status, _, body = http("DELETE", f"{base}/api/v1/passes/{p['id']}", token=token)
        check("cancelled", status == 200 and json.loads(body)["status"] == "cancelled", body.decode())
        status, _, body = http("POST", f"{base}/api/v1/verify", {"short_code": p["short_code"]}, staff)
        check("short code revoked", json.loads(body)["verdict"] == "revoked", body.decode())
        status, _, body = http("GET", f"{base}/api/v1/revocations?since=0")
        revoked = pt.load_revocations(body.decode())
        v = pt.verify_token(p["token"], keys, now, revoked)
        check("independent verifier with the published list: revoked", v.verdict == "revoked", str(v))
        # A second cancellation, then the list a page of one entry at a time, following `next`.
        status, _, body = http("POST", f"{base}/api/v1/passes", {"purpose": "trash", "duration_minutes": 20}, token)
        second = json.loads(body)["id"]
        http("DELETE", f"{base}/api/v1/passes/{second}", token=token)
        paged, query, pages = set(), "since=0&limit=1", 0
        while True:
            status, _, body = http("GET", f"{base}/api/v1/revocations?{query}")
            page = json.loads(body)
            paged |= pt.load_revocations(body.decode())
            pages += 1
            if page["next"] is None:
                break
            query = f"next={page['next']}&limit=1"
        check("the list in pages of one: both revocations, in two pages",
              paged == {p["id"], second} and pages == 2 and page["sequence"] == page["latest"], f"{paged} {pages}")
        # The compact form, read from docs/token-format.md alone.
        status, headers, body = http("GET", f"{base}/api/v1/revocations?since=0&format=compact")
        compact = pt.load_compact_revocations(body)
        check("the compact page holds the SHA-256 prefixes of both ids",
              compact["keys"] == {pt.compact_revocation_key(i) for i in (p["id"], second)}
              and compact["sequence"] == 2 and compact["next"] is None, str(compact))
        check("a pass off the compact list is not in it",
              pt.compact_revocation_key(str(uuid.uuid4())) not in compact["keys"], "")
        status, _, body = http("GET", f"{base}/api/v1/revocations?limit=0")
        check("limit out of range: problem+json 400",
              status == 400 and json.loads(body)["code"] == "invalid_limit", body.decode())

        status, _, body = http("POST", f"{base}/api/v1/passes", {"purpose": "work"}, token)
        check("work without INN refused", status == 422 and json.loads(body)["code"] == "missing_field", body.decode())
        status, _, body = http("POST", f"{base}/api/v1/passes", {"purpose": "work", "employer_inn": "7707083893"}, token)
        check("work with a valid INN issued", status == 201, body.decode())
        check("work pass verifies independently",
              pt.verify_token(json.loads(body)["token"], keys, int(time.time())).verdict == "valid", "")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = -9
        check("graceful shutdown on SIGTERM", code == 0, f"exit code {code}")
    print(f"service-interop: {PASSED} passed, {len(FAILED)} failed")
    return 0 if not FAILED else 1


if __name__ == "__main__":
    sys.exit(main())
