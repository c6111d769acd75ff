#!/usr/bin/env python3
"""Interop test: the Rust `propusk` CLI against the independent Python
implementation of pass token v1 in pytoken.py.

    pip install -r tests/interop/requirements.txt
    python3 tests/interop/run.py PATH_TO_PROPUSK_BINARY [-v] [--keep]

-v lists every check; --keep keeps the temp dir for reproducing a failure.

a. Python signs, `propusk verify --json TOKEN` must give the right verdict,
   claims and exit code (both EdDSA and ES256).
b. The same tokens in one batch on stdin (`propusk verify --json -`).
c. `propusk keys generate/export` + `propusk sign`, verified by Python
   using only the exported JWKS.
d. Prints `interop: N passed, M failed`; exits 1 if anything failed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cbor2  # noqa: E402

import pytoken as pt  # noqa: E402

VERBOSE = False
PASSED = 0
FAILURES: list[str] = []


def check(name: str, ok: bool, expected, got) -> bool:
    global PASSED
    if ok:
        PASSED += 1
        if VERBOSE:
            print(f"ok   {name}")
    else:
        FAILURES.append(f"{name}\n       expected: {expected}\n       got:      {got}")
        print(f"FAIL {name}\n       expected: {expected}\n       got:      {got}")
    return ok


def eq(name: str, got, want) -> bool:
    return check(name, got == want, repr(want), repr(got))


def ts(s: str) -> int:
    return int(dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())


def rfc3339(unix: int) -> str:
    return dt.datetime.fromtimestamp(unix, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def short(s: str, n: int = 400) -> str:
    s = s if isinstance(s, str) else repr(s)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


class Cli:
    def __init__(self, binary: str):
        self.binary = binary

    def run(self, args: list[str], stdin: str | None = None):
        cmd = [self.binary, *args]
        p = subprocess.run(cmd, input=stdin, capture_output=True, encoding="utf-8", errors="replace", timeout=120)
        return p.returncode, p.stdout, p.stderr

    def verify(self, jwks: str, at: str, tokens: list[str] | str, revocations: str | None = None):
        """Returns (rc, list of parsed JSON lines or None, stdout, stderr, argv)."""
        args = ["verify", "--keys", jwks, "--at", at, "--json"]
        if revocations:
            args += ["--revocations", revocations]
        if isinstance(tokens, list):
            args.append("-")
            stdin = "".join(t + "\n" for t in tokens)
        else:
            args.append(tokens)
            stdin = None
        rc, out, err = self.run(args, stdin)
        lines = []
        for line in out.splitlines():
            if not line.strip():
                continue
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                lines = None
                break
        return rc, lines, out, err, args


# ---------------------------------------------------------------------------
# fixed times

T_NBF = ts("2026-01-01T10:00:00Z")
T_EXP = ts("2026-01-01T13:00:00Z")
T_AT = ts("2026-01-01T11:00:00Z")
AT = rfc3339(T_AT)
HOUR = 3600


def base_claims(**over) -> dict:
    c = dict(
        iss="RU-MOW",
        iat=T_NBF - 300,
        nbf=T_NBF,
        exp=T_EXP,
        cti=os.urandom(16),
        purpose="shopping",
        regime="moscow-2020",
        holder="И.И. 4567",
    )
    c.update(over)
    return c


def json_claims(c: dict) -> dict:
    """What the CLI must print as "claims" for claims_map() kwargs."""
    return {
        "iss": c["iss"],
        "iat": c["iat"],
        "nbf": c["nbf"],
        "exp": c["exp"],
        "pass_id": str(uuid.UUID(bytes=c["cti"])),
        "purpose": c["purpose"],
        "regime": c["regime"],
        "holder": c["holder"],
        "area": c.get("area"),
        "vehicle": c.get("vehicle"),
    }


class Case:
    """One token sent to the CLI and what must come back."""

    def __init__(self, name, token, verdict, claims=None, kid=None, accept=None):
        self.name = name
        self.token = token
        self.verdict = verdict  # expected verdict
        self.claims = claims  # expected JSON claims, or None
        self.kid = kid  # expected kid (b64url), or None
        self.accept = accept  # set of acceptable verdicts when the spec leaves a choice

    def check_line(self, label: str, obj) -> None:
        sent = f"(sent {short(self.token, 120)!r})"
        if not isinstance(obj, dict):
            check(f"{label}: JSON object", False, "a JSON object", repr(obj))
            return
        v = obj.get("verdict")
        if self.accept:
            check(f"{label}: verdict", v in self.accept, f"one of {sorted(self.accept)} {sent}", json.dumps(obj, ensure_ascii=False))
        else:
            check(f"{label}: verdict", v == self.verdict, f"{self.verdict!r} {sent}", json.dumps(obj, ensure_ascii=False))
        if self.claims is not None and v == self.verdict:
            got = obj.get("claims")
            diff = (
                {k: (self.claims.get(k), got.get(k)) for k in set(self.claims) | set(got) if self.claims.get(k, "∅") != got.get(k, "∅")}
                if isinstance(got, dict)
                else None
            )
            check(f"{label}: claims", got == self.claims, json.dumps(self.claims, ensure_ascii=False),
                  json.dumps(got, ensure_ascii=False) + (f"  diff (want, got): {diff}" if diff else ""))
        if self.kid is not None and v == self.verdict:
            eq(f"{label}: kid", obj.get("kid"), self.kid)
        if self.verdict == "malformed" and v == "malformed":
            r = obj.get("reason")
            check(f"{label}: reason", isinstance(r, str) and r != "", "a non-empty reason", repr(r))


# ---------------------------------------------------------------------------
# a. + b.  Python signs, Rust verifies


def python_to_rust(cli: Cli, tmp: str) -> None:
    keys = {"ed25519": pt.generate_key("ed25519"), "es256": pt.generate_key("es256")}
    strangers = {"ed25519": pt.generate_key("ed25519"), "es256": pt.generate_key("es256")}
    jwks = os.path.join(tmp, "py-keys.json")
    with open(jwks, "w") as f:
        f.write(pt.export_jwks(keys.values()))
    # our own JWKS must round-trip through our own importer
    eq("python JWKS round-trip", set(pt.import_jwks(open(jwks).read())), {k.kid for k in keys.values()})

    revoked_ids = []
    cases: list[Case] = []
    extra_single: list[tuple[Case, str, str | None]] = []  # (case, at, revocations)
    revs = os.path.join(tmp, "revocations.json")

    for alg, k in keys.items():
        kid = pt.b64u(k.kid)

        def tok(compress=True, key=k, **over):
            c = base_claims(**over)
            return pt.sign_token(key, compress=compress, **c), c

        t, c = tok()
        valid = Case(f"{alg} valid", t, "valid", json_claims(c), kid)
        cases.append(valid)
        t2, c2 = tok(area="MOW-CAO", vehicle="А123ВС77", iss="RU-TA", purpose="medical")
        cases.append(Case(f"{alg} valid with area+vehicle", t2, "valid", json_claims(c2), kid))
        t, c = tok(compress=False)
        cases.append(Case(f"{alg} uncompressed but valid", t, "valid", json_claims(c), kid))
        t, c = tok(nbf=T_AT - 4 * HOUR, exp=T_AT - HOUR, iat=T_AT - 5 * HOUR)
        cases.append(Case(f"{alg} expired", t, "expired", json_claims(c), kid))
        t, c = tok(nbf=T_AT + HOUR, exp=T_AT + 4 * HOUR)
        cases.append(Case(f"{alg} not_yet_valid", t, "not_yet_valid", json_claims(c), kid))
        tampered = pt.wrap_qr(pt.tamper_purpose(pt.unwrap_qr(valid.token), "work"))
        cases.append(Case(f"{alg} tampered payload", tampered, "bad_signature", kid=kid))
        t, c = tok(key=strangers[alg])
        cases.append(Case(f"{alg} unknown kid", t, "unknown_key", kid=pt.b64u(strangers[alg].kid)))
        cases.append(Case(f"{alg} wrong prefix PR2:", "PR2:" + valid.token[4:], "malformed"))
        cases.append(Case(f"{alg} no prefix", valid.token[4:], "malformed"))
        cases.append(Case(f"{alg} truncated", valid.token[:-10], "malformed"))
        cases.append(Case(f"{alg} garbage", "GARBAGE " + os.urandom(12).hex() + " not a pass", "malformed"))
        t, c = tok()
        revoked_ids.append(str(uuid.UUID(bytes=c["cti"])))
        revoked = Case(f"{alg} revoked", t, "revoked", json_claims(c), kid)
        cases.append(revoked)

        # boundaries (lead's time semantics: not_yet_valid if now < nbf, expired if now >= exp)
        extra_single += [
            (Case(f"{alg} boundary at == nbf", valid.token, "valid", valid.claims, kid), rfc3339(T_NBF), None),
            (Case(f"{alg} boundary at == nbf-1s", valid.token, "not_yet_valid", valid.claims, kid), rfc3339(T_NBF - 1), None),
            (Case(f"{alg} boundary at == exp-1s", valid.token, "valid", valid.claims, kid), rfc3339(T_EXP - 1), None),
            (Case(f"{alg} boundary at == exp", valid.token, "expired", valid.claims, kid), rfc3339(T_EXP), None),
            (Case(f"{alg} revoked pass without --revocations", revoked.token, "valid", revoked.claims, kid), AT, None),
        ]

    # robustness: well-signed but structurally wrong, and other hostile input
    ek = keys["ed25519"]
    pk = keys["es256"]

    def signed(payload_obj, key=ek, **kw):
        return pt.wrap_qr(pt.sign_cose(key, cbor2.dumps(payload_obj), **kw))

    c = base_claims()
    m = pt.claims_map(**c)
    cti15 = dict(m)
    cti15[pt.CWT_CTI] = os.urandom(15)
    nopass = {k2: v for k2, v in m.items() if k2 != pt.CWT_PASS}
    cases += [
        Case("robust: cti of 15 bytes", signed(cti15), "malformed"),
        Case("robust: no -65537 claim", signed(nopass), "malformed"),
        Case("robust: payload is an array", signed([1, 2, 3]), "malformed"),
        Case("robust: base45 of zlib of random bytes", pt.wrap_qr(os.urandom(200)), "malformed"),
        Case("robust: lowercase (not base45)", "PR1:" + valid.token[4:].lower(), "malformed"),
        Case("robust: prefix only", "PR1:", "malformed"),
        Case("robust: zlib bomb (10 MB of zeros)", pt.wrap_qr(b"\0" * 10_000_000), "malformed"),
    ]
    # a map key given twice (a second, later exp) must not be resolved silently
    body = b"".join(cbor2.dumps(k2) + cbor2.dumps(v2) for k2, v2 in m.items())
    dup_exp = bytes([0xA0 + len(m) + 1]) + body + cbor2.dumps(pt.CWT_EXP) + cbor2.dumps(T_EXP + 365 * 24 * HOUR)
    cases.append(Case("robust: claims map repeats exp", pt.wrap_qr(pt.sign_cose(ek, dup_exp)), "malformed"))
    # QR text = PR1: + base45(zlib(COSE)): bytes after the end of the zlib stream are not that
    good_cose = pt.sign_cose(ek, cbor2.dumps(pt.claims_map(**base_claims())))
    cases.append(Case("robust: bytes after the zlib stream", "PR1:" + pt.b45encode(zlib.compress(good_cose) + b"JUNK"), "malformed"))
    # COSE_Sign1 without tag 18 (the spec requires the tag)
    tagged = cbor2.loads(pt.sign_cose(ek, cbor2.dumps(m)))
    cases.append(Case("robust: COSE_Sign1 without tag 18", pt.wrap_qr(cbor2.dumps(list(tagged.value))), "malformed"))
    # alg confusion: header says ES256 but kid is the Ed25519 key (signature is Ed25519)
    cases.append(Case("robust: alg ES256 in header, EdDSA key+sig", signed(m, ek, alg=pt.ALG_ES256),
                      "bad_signature", accept={"bad_signature", "malformed"}))
    # ES256 signature in DER instead of raw r||s
    prot = cbor2.dumps({pt.HDR_ALG: pt.ALG_ES256, pt.HDR_KID: pk.kid})
    payload = cbor2.dumps(m)
    der = pk.private.sign(pt.sig_structure(prot, payload), pt.ec.ECDSA(pt.hashes.SHA256()))
    cases.append(Case("robust: ES256 signature DER-encoded", pt.wrap_qr(cbor2.dumps(cbor2.CBORTag(18, [prot, {}, payload, der]))),
                      "bad_signature", accept={"bad_signature", "malformed"}))

    with open(revs, "w") as f:
        json.dump({"sequence": 3, "revoked": [
            {"seq": 1, "pass_id": str(uuid.uuid4())},
            {"seq": 2, "pass_id": revoked_ids[0]},
            {"seq": 3, "pass_id": revoked_ids[1]},
        ]}, f)

    # sanity: the Python verifier agrees with every expectation (else the test itself is wrong)
    pykeys = pt.import_jwks(open(jwks).read())
    pyrev = pt.load_revocations(open(revs).read())
    for case in cases:
        got = pt.verify_token(case.token, pykeys, T_AT, pyrev if case.verdict == "revoked" else set())
        ok = got.verdict in case.accept if case.accept else got.verdict == case.verdict
        check(f"[python self-check] {case.name}", ok, case.verdict, got.as_json())
    for case, at, _ in extra_single:
        got = pt.verify_token(case.token, pykeys, ts(at))
        eq(f"[python self-check] {case.name}", got.verdict, case.verdict)

    # a. one token per invocation
    for case in cases:
        r = revs if case.verdict == "revoked" else None
        _single(cli, jwks, AT, case, r)
    for case, at, r in extra_single:
        _single(cli, jwks, at, case, r)

    # b. batch on stdin
    rc, lines, out, err, args = cli.verify(jwks, AT, [c.token for c in cases], revs)
    label = "batch (stdin, --json -)"
    check(f"{label}: some input line contains a space (base45 space survives line reading)",
          any(" " in c.token[4:] for c in cases if c.verdict == "valid"), "test data with spaces", "none")
    if check(f"{label}: stdout is JSON lines", lines is not None, "one JSON object per line",
             f"stdout={short(out)!r} stderr={short(err)!r}"):
        if check(f"{label}: one line per input", len(lines) == len(cases), len(cases),
                 f"{len(lines)} lines; stderr={short(err)!r}"):
            for case, obj in zip(cases, lines):
                case.check_line(f"{label}: {case.name}", obj)
    eq(f"{label}: exit code (not all valid)", rc, 1)

    valids = [c for c in cases if c.verdict == "valid"]
    rc, lines, out, err, _ = cli.verify(jwks, AT, [c.token for c in valids])
    eq("batch of only valid tokens: exit code", rc, 0)
    if lines is not None and len(lines) == len(valids):
        eq("batch of only valid tokens: verdicts", [o.get("verdict") for o in lines], ["valid"] * len(valids))
    else:
        check("batch of only valid tokens: output", False, f"{len(valids)} JSON lines", short(out))

    # usage errors -> exit 2
    rc, _, err = cli.run(["verify", "--at", AT, "--json", valids[0].token])
    eq("usage: verify without --keys exits 2", rc, 2)
    rc, _, err = cli.run(["verify", "--keys", jwks, "--at", "yesterday-ish", "--json", valids[0].token])
    eq("usage: verify with unparsable --at exits 2", rc, 2)


def _single(cli: Cli, jwks: str, at: str, case: Case, revs: str | None) -> None:
    label = f"single: {case.name}"
    rc, lines, out, err, args = cli.verify(jwks, at, case.token, revs)
    if not check(f"{label}: exactly one JSON line", lines is not None and len(lines) == 1,
                 "one JSON object line", f"rc={rc} stdout={short(out)!r} stderr={short(err)!r}"):
        return
    case.check_line(label, lines[0])
    want_rc = 0 if case.verdict == "valid" else 1
    eq(f"{label}: exit code", rc, want_rc)


# ---------------------------------------------------------------------------
# c.  Rust signs, Python verifies


def rust_to_python(cli: Cli, tmp: str) -> None:
    for alg in ("ed25519", "es256"):
        d = os.path.join(tmp, f"data-{alg}")
        jwks2 = os.path.join(tmp, f"rust-{alg}.json")
        label = f"rust {alg}"
        rc, out, err = cli.run(["keys", "generate", "--data-dir", d, "--alg", alg])
        if not eq(f"{label}: keys generate exit code", rc, 0):
            print(f"       stderr: {short(err)}")
            continue
        rc, out, err = cli.run(["keys", "export", "--data-dir", d, "--out", jwks2])
        if not eq(f"{label}: keys export exit code", rc, 0):
            print(f"       stderr: {short(err)}")
            continue

        # the exported JWKS, checked field by field and kid recomputed from the key
        try:
            doc = json.load(open(jwks2))
            jwk_list = doc["keys"]
        except Exception as e:
            check(f"{label}: JWKS parses", False, '{"keys": [...]}', f"{type(e).__name__}: {e}")
            continue
        eq(f"{label}: JWKS has one key", len(jwk_list), 1)
        jwk = jwk_list[0]
        want = ({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig"} if alg == "ed25519"
                else {"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig"})
        eq(f"{label}: JWK fields", {k: jwk.get(k) for k in want}, want)
        want_members = {"kty", "crv", "x", "kid", "alg", "use"} | ({"y"} if alg == "es256" else set())
        eq(f"{label}: JWK members", set(jwk), want_members)
        for member in ("x", "y", "kid"):
            if member in jwk:
                check(f"{label}: JWK {member} is unpadded base64url",
                      isinstance(jwk[member], str) and all(ch.isalnum() or ch in "-_" for ch in jwk[member]),
                      "base64url without padding", repr(jwk[member]))
        try:
            keys = pt.import_jwks(open(jwks2).read())  # also checks kid == SHA-256(SPKI)[:8]
            check(f"{label}: JWK kid = SHA-256(SPKI)[:8]", True, "", "")
        except Exception as e:
            check(f"{label}: JWK kid = SHA-256(SPKI)[:8]", False, "an importable JWK with a matching kid", f"{type(e).__name__}: {e}")
            continue

        sign_args = ["sign", "--data-dir", d, "--purpose", "shopping", "--regime", "moscow-2020",
                     "--holder", "И.И. 4567", "--valid-from", "2026-01-01T10:00:00Z",
                     "--valid-until", "2026-01-01T13:00:00Z"]
        t_before = int(time.time())
        rc, out, err = cli.run(sign_args)
        t_after = int(time.time())
        if not eq(f"{label}: sign exit code", rc, 0):
            print(f"       stderr: {short(err)}")
            continue
        token = out.rstrip("\r\n")
        check(f"{label}: sign prints one line", "\n" not in token and token != "", "one token line", repr(short(out)))
        check(f"{label}: token is PR1: + QR alphanumeric", token.startswith("PR1:") and all(ch in pt.B45_ALPHABET for ch in token),
              "PR1: + base45 characters", repr(short(token)))

        at11 = ts("2026-01-01T11:00:00Z")
        v = pt.verify_token(token, keys, at11)
        check(f"{label}: python verifies at 11:00 -> valid", v.verdict == "valid", "valid", v.as_json())
        for at, want_v in (("2026-01-01T13:00:00Z", "expired"), ("2026-01-01T09:00:00Z", "not_yet_valid"),
                           ("2026-01-01T10:00:00Z", "valid"), ("2026-01-01T12:59:59Z", "valid")):
            got = pt.verify_token(token, keys, ts(at))
            check(f"{label}: python verifies at {at[11:19]} -> {want_v}", got.verdict == want_v, want_v, got.as_json())
        got = pt.verify_token(token, {}, at11)
        eq(f"{label}: python with empty key set -> unknown_key", got.verdict, "unknown_key")

        if v.claims:
            c = v.claims
            want_c = {"iss": "RU-MOW", "nbf": T_NBF, "exp": T_EXP, "purpose": "shopping",
                      "regime": "moscow-2020", "holder": "И.И. 4567", "area": None, "vehicle": None}
            eq(f"{label}: claims as asked", {k: c[k] for k in want_c}, want_c)
            check(f"{label}: iat is the signing time", t_before - 5 <= c["iat"] <= t_after + 5,
                  f"between {t_before} and {t_after} (wall clock at signing)", c["iat"])
            eq(f"{label}: kid in token = JWK kid", v.kid, jwk.get("kid"))

        # wire details
        try:
            qr = pt.b45decode(token[4:])
            check(f"{label}: zlib-compressed", pt._has_zlib_header(qr), "a zlib (RFC 1950) stream", qr[:4].hex())
            cose = zlib.decompress(qr) if pt._has_zlib_header(qr) else qr
            tag = cbor2.loads(cose)
            prot, unprot, payload, sig = tag.value
            hdr = cbor2.loads(prot)
            eq(f"{label}: protected header", dict(hdr), {1: pt.ALG_EDDSA if alg == "ed25519" else pt.ALG_ES256,
                                                         4: pt.b64u_decode(jwk["kid"])})
            eq(f"{label}: unprotected header empty", dict(unprot), {})
            eq(f"{label}: signature length", len(sig), 64)
        except Exception as e:
            check(f"{label}: wire structure", False, "decodable COSE_Sign1", f"{type(e).__name__}: {e}")

        # optional claims and issuer
        rc, out, err = cli.run(sign_args + ["--issuer", "RU-TA", "--area", "MOW-CAO", "--vehicle", "А123ВС77"])
        if eq(f"{label}: sign --issuer --area --vehicle exit code", rc, 0):
            v2 = pt.verify_token(out.rstrip("\r\n"), keys, at11)
            check(f"{label}: with area+vehicle -> valid", v2.verdict == "valid", "valid", v2.as_json())
            if v2.claims:
                eq(f"{label}: iss/area/vehicle", (v2.claims["iss"], v2.claims["area"], v2.claims["vehicle"]),
                   ("RU-TA", "MOW-CAO", "А123ВС77"))
                if v.claims:
                    check(f"{label}: two passes get different pass ids", v.claims["pass_id"] != v2.claims["pass_id"],
                          "different pass_id", v2.claims["pass_id"])
        else:
            print(f"       stderr: {short(err)}")

        # and the Rust verifier agrees on its own token with its own JWKS
        rc, lines, out, err, _ = cli.verify(jwks2, AT, token)
        ok = lines is not None and len(lines) == 1 and lines[0].get("verdict") == "valid" and rc == 0
        check(f"{label}: rust verifies its own token -> valid, exit 0", ok, "valid, rc=0",
              f"rc={rc} stdout={short(out)!r} stderr={short(err)!r}")
        if ok and v.claims:
            eq(f"{label}: rust and python decode the same claims", lines[0].get("claims"), v.claims)


# ---------------------------------------------------------------------------


def main() -> int:
    global VERBOSE
    flags = {a for a in sys.argv[1:] if a.startswith("--") or a == "-v"}
    args = [a for a in sys.argv[1:] if a not in flags]
    VERBOSE = bool(flags & {"-v", "--verbose"})
    keep = "--keep" in flags
    if len(args) != 1:
        print(__doc__)
        return 2
    binary = os.path.abspath(args[0])
    if not os.access(binary, os.X_OK):
        print(f"not an executable: {binary}")
        return 2
    cli = Cli(binary)
    tmp = tempfile.mkdtemp(prefix="propusk-interop-")
    try:
        for section in (python_to_rust, rust_to_python):
            try:
                section(cli, tmp)
            except Exception:
                check(f"{section.__name__} ran to the end", False, "no exception", traceback.format_exc())
    finally:
        if keep:
            print(f"kept temp dir (keys, JWKS, revocations, data dirs): {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for f in FAILURES:
        print(f"failed: {f.splitlines()[0]}")
    print(f"interop: {PASSED} passed, {len(FAILURES)} failed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    raise SystemExit(main())
