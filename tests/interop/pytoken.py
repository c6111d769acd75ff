"""Independent Python implementation of the propusk pass token v1.

Written from the "Pass token v1" section of DESIGN.md only, as a second
implementation to test the Rust one against.  Needs `cbor2` and
`cryptography` (see requirements.txt).

    QR text = "PR1:" + base45(zlib(COSE_Sign1))

Run this file directly (`python3 tests/interop/pytoken.py`) for a self-test
that signs and verifies every case with this implementation alone.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional, Union

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

PREFIX = "PR1:"

# COSE / CWT labels
COSE_SIGN1_TAG = 18
HDR_ALG = 1
HDR_KID = 4
ALG_EDDSA = -8
ALG_ES256 = -7
ALG_NAMES = {ALG_EDDSA: "EdDSA", ALG_ES256: "ES256"}

CWT_ISS = 1
CWT_EXP = 4
CWT_NBF = 5
CWT_IAT = 6
CWT_CTI = 7
CWT_PASS = -65537  # private claim: the pass details map
PASS_PURPOSE = 1
PASS_REGIME = 2
PASS_HOLDER = 3
PASS_AREA = 4
PASS_VEHICLE = 5

VERDICTS = (
    "valid",
    "expired",
    "not_yet_valid",
    "revoked",
    "unknown_key",
    "bad_signature",
    "malformed",
)

MAX_COSE_BYTES = 64 * 1024  # refuse to inflate more than this (zip bombs)


# ---------------------------------------------------------------------------
# base45 (RFC 9285)

B45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
B45_VALUE = {c: i for i, c in enumerate(B45_ALPHABET)}


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        out += [n % 45, (n // 45) % 45, n // 2025]
    if len(data) % 2:
        n = data[-1]
        out += [n % 45, n // 45]
    return "".join(B45_ALPHABET[v] for v in out)


def b45decode(text: str) -> bytes:
    try:
        vals = [B45_VALUE[c] for c in text]
    except KeyError as e:
        raise ValueError(f"character {e.args[0]!r} is not in the base45 alphabet") from None
    if len(vals) % 3 == 1:
        raise ValueError("base45 length leaves a single dangling character")
    out = bytearray()
    for i in range(0, len(vals), 3):
        group = vals[i : i + 3]
        if len(group) == 3:
            n = group[0] + group[1] * 45 + group[2] * 2025
            if n > 0xFFFF:
                raise ValueError("base45 triple exceeds 65535")
            out += n.to_bytes(2, "big")
        else:
            n = group[0] + group[1] * 45
            if n > 0xFF:
                raise ValueError("base45 final pair exceeds 255")
            out.append(n)
    return bytes(out)


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    if "=" in text:
        raise ValueError("base64url must not be padded")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# ---------------------------------------------------------------------------
# keys


def kid_of(public_key) -> bytes:
    """First 8 bytes of SHA-256 over the SubjectPublicKeyInfo DER."""
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()[:8]


@dataclass
class VerifyKey:
    alg: int  # ALG_EDDSA or ALG_ES256
    public: Union[ed25519.Ed25519PublicKey, ec.EllipticCurvePublicKey]
    kid: bytes

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            if self.alg == ALG_EDDSA:
                self.public.verify(signature, message)
            else:
                if len(signature) != 64:
                    return False
                r = int.from_bytes(signature[:32], "big")
                s = int.from_bytes(signature[32:], "big")
                self.public.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            return False


@dataclass
class SigningKey:
    alg: int
    private: Union[ed25519.Ed25519PrivateKey, ec.EllipticCurvePrivateKey]

    @property
    def kid(self) -> bytes:
        return kid_of(self.private.public_key())

    def verify_key(self) -> VerifyKey:
        return VerifyKey(self.alg, self.private.public_key(), self.kid)

    def sign(self, message: bytes) -> bytes:
        if self.alg == ALG_EDDSA:
            return self.private.sign(message)
        der = self.private.sign(message, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def generate_key(alg: str) -> SigningKey:
    """alg: "ed25519"/"EdDSA" or "es256"/"ES256"."""
    a = alg.lower()
    if a in ("ed25519", "eddsa"):
        return SigningKey(ALG_EDDSA, ed25519.Ed25519PrivateKey.generate())
    if a == "es256":
        return SigningKey(ALG_ES256, ec.generate_private_key(ec.SECP256R1()))
    raise ValueError(f"unknown alg {alg!r}")


def jwk_of(key: Union[SigningKey, VerifyKey]) -> dict:
    pub = key.private.public_key() if isinstance(key, SigningKey) else key.public
    kid = b64u(key.kid)
    if key.alg == ALG_EDDSA:
        x = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(x), "kid": kid, "alg": "EdDSA", "use": "sig"}
    nums = pub.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64u(nums.x.to_bytes(32, "big")),
        "y": b64u(nums.y.to_bytes(32, "big")),
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
    }


def export_jwks(keys) -> str:
    return json.dumps({"keys": [jwk_of(k) for k in keys]}, indent=2)


def import_jwk(jwk: dict) -> VerifyKey:
    """One JWK -> VerifyKey.  Raises ValueError if the JWK is not one of ours
    or its kid does not match the kid computed from the key itself."""
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP" and crv == "Ed25519":
        x = b64u_decode(jwk["x"])
        if len(x) != 32:
            raise ValueError("Ed25519 x must be 32 bytes")
        alg, pub = ALG_EDDSA, ed25519.Ed25519PublicKey.from_public_bytes(x)
        want_alg = "EdDSA"
    elif kty == "EC" and crv == "P-256":
        x, y = b64u_decode(jwk["x"]), b64u_decode(jwk["y"])
        if len(x) != 32 or len(y) != 32:
            raise ValueError("P-256 x and y must be 32 bytes")
        nums = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        )
        alg, pub = ALG_ES256, nums.public_key()
        want_alg = "ES256"
    else:
        raise ValueError(f"unsupported JWK kty={kty!r} crv={crv!r}")
    if "alg" in jwk and jwk["alg"] != want_alg:
        raise ValueError(f"JWK alg {jwk['alg']!r} does not fit {kty}/{crv}")
    kid = b64u_decode(jwk["kid"])
    if kid != kid_of(pub):
        raise ValueError(
            f"JWK kid {jwk['kid']} != SHA-256(SPKI)[:8] = {b64u(kid_of(pub))}"
        )
    return VerifyKey(alg, pub, kid)


def import_jwks(text: str) -> dict[bytes, VerifyKey]:
    doc = json.loads(text)
    keys = {}
    for jwk in doc["keys"]:
        k = import_jwk(jwk)
        keys[k.kid] = k
    return keys


# ---------------------------------------------------------------------------
# signing


def claims_map(
    *,
    iss: str,
    iat: int,
    nbf: int,
    exp: int,
    cti: bytes,
    purpose: str,
    regime: str,
    holder: str,
    area: Optional[str] = None,
    vehicle: Optional[str] = None,
) -> dict:
    pass_map = {PASS_PURPOSE: purpose, PASS_REGIME: regime, PASS_HOLDER: holder}
    if area is not None:
        pass_map[PASS_AREA] = area
    if vehicle is not None:
        pass_map[PASS_VEHICLE] = vehicle
    return {
        CWT_ISS: iss,
        CWT_IAT: iat,
        CWT_NBF: nbf,
        CWT_EXP: exp,
        CWT_CTI: cti,
        CWT_PASS: pass_map,
    }


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign_cose(key: SigningKey, payload: bytes, *, alg: Optional[int] = None) -> bytes:
    """COSE_Sign1 (tag 18) bytes over an already-encoded payload."""
    protected = cbor2.dumps({HDR_ALG: key.alg if alg is None else alg, HDR_KID: key.kid})
    signature = key.sign(sig_structure(protected, payload))
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def wrap_qr(cose: bytes, *, compress: bool = True, prefix: str = PREFIX) -> str:
    data = zlib.compress(cose, 9) if compress else cose
    return prefix + b45encode(data)


def sign_token(key: SigningKey, *, compress: bool = True, **claims) -> str:
    """Keyword arguments are those of claims_map()."""
    return wrap_qr(sign_cose(key, cbor2.dumps(claims_map(**claims))), compress=compress)


# ---------------------------------------------------------------------------
# verifying


class Malformed(Exception):
    pass


@dataclass
class Verdict:
    verdict: str
    reason: Optional[str] = None
    kid: Optional[str] = None  # base64url
    claims: Optional[dict] = None  # JSON shape, as the CLI prints it

    def as_json(self) -> dict:
        d = {"verdict": self.verdict}
        if self.reason is not None:
            d["reason"] = self.reason
        if self.kid is not None:
            d["kid"] = self.kid
        if self.claims is not None:
            d["claims"] = self.claims
        return d


def _has_zlib_header(data: bytes) -> bool:
    # RFC 1950: CM = 8 (deflate), CINFO <= 7, (CMF*256 + FLG) % 31 == 0.
    # A COSE_Sign1 starts with 0xD2 (tag 18), which never passes this test.
    return (
        len(data) >= 2
        and data[0] & 0x0F == 8
        and data[0] >> 4 <= 7
        and (data[0] * 256 + data[1]) % 31 == 0
    )


def unwrap_qr(text: str) -> bytes:
    """QR text -> COSE_Sign1 bytes.  Raises Malformed."""
    if not text.startswith(PREFIX):
        raise Malformed("missing PR1: prefix")
    try:
        data = b45decode(text[len(PREFIX) :])
    except ValueError as e:
        raise Malformed(f"base45: {e}") from None
    if not _has_zlib_header(data):
        return data  # raw COSE, accepted per spec
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_COSE_BYTES + 1)
    except zlib.error as e:
        raise Malformed(f"zlib: {e}") from None
    if len(out) > MAX_COSE_BYTES:
        raise Malformed("zlib: inflated data too large")
    if not d.eof:
        raise Malformed("zlib: truncated stream")
    if d.unused_data:
        raise Malformed("zlib: trailing bytes after stream")
    return out


def _cbor_one(data: bytes, what: str):
    """Decode exactly one CBOR item; trailing bytes and repeated map keys
    are errors (a repeated `exp` must not be resolved silently)."""
    buf = io.BytesIO(data)
    try:
        obj = cbor2.CBORDecoder(buf, allow_duplicate_keys=False).decode()
    except Exception as e:  # cbor2 raises several types; any is malformed
        raise Malformed(f"{what}: CBOR: {e}") from None
    if buf.tell() != len(data):
        raise Malformed(f"{what}: trailing bytes after CBOR item")
    return obj


def _is_int(v) -> bool:
    return type(v) is int  # not bool


def _text(m: dict, label, what: str, optional=False):
    if label not in m:
        if optional:
            return None
        raise Malformed(f"missing {what}")
    v = m[label]
    if type(v) is not str:
        raise Malformed(f"{what} is not a text string")
    return v


def _int(m: dict, label, what: str) -> int:
    if label not in m:
        raise Malformed(f"missing {what}")
    if not _is_int(m[label]):
        raise Malformed(f"{what} is not an integer")
    return m[label]


@dataclass
class Envelope:
    protected: bytes
    payload: bytes
    signature: bytes
    alg: int
    kid: bytes


def parse_envelope(cose: bytes) -> Envelope:
    """COSE_Sign1 structure and protected header.  Raises Malformed.
    The payload is left undecoded until its signature has been checked."""
    obj = _cbor_one(cose, "COSE_Sign1")
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != COSE_SIGN1_TAG:
        raise Malformed("not a COSE_Sign1 (CBOR tag 18)")
    arr = obj.value
    # cbor2 decodes a tagged array as a tuple
    if not isinstance(arr, (list, tuple)) or len(arr) != 4:
        raise Malformed("COSE_Sign1 is not an array of 4")
    protected, unprotected, payload, signature = arr
    if type(protected) is not bytes or type(payload) is not bytes or type(signature) is not bytes:
        raise Malformed("COSE_Sign1 protected/payload/signature must be byte strings")
    if not isinstance(unprotected, Mapping):
        raise Malformed("unprotected header is not a map")
    hdr = _cbor_one(protected, "protected header")
    if not isinstance(hdr, Mapping):
        raise Malformed("protected header is not a map")
    alg = hdr.get(HDR_ALG)
    if not _is_int(alg) or alg not in ALG_NAMES:
        raise Malformed(f"unsupported alg {alg!r}")
    kid = hdr.get(HDR_KID)
    if type(kid) is not bytes or len(kid) != 8:
        raise Malformed("kid must be an 8-byte byte string")
    return Envelope(protected, payload, signature, alg, kid)


def parse_claims(payload: bytes) -> dict:
    """CWT claims -> the JSON shape the CLI prints.  Raises Malformed.
    Claims other than those below are ignored."""
    c = _cbor_one(payload, "payload")
    if not isinstance(c, Mapping):
        raise Malformed("payload is not a CWT claims map")
    iss = _text(c, CWT_ISS, "iss")
    iat = _int(c, CWT_IAT, "iat")
    nbf = _int(c, CWT_NBF, "nbf")
    exp = _int(c, CWT_EXP, "exp")
    cti = c.get(CWT_CTI)
    if type(cti) is not bytes or len(cti) != 16:
        raise Malformed("cti must be a 16-byte byte string")
    p = c.get(CWT_PASS)
    if not isinstance(p, Mapping):
        raise Malformed("missing or non-map private claim -65537")
    return {
        "iss": iss,
        "iat": iat,
        "nbf": nbf,
        "exp": exp,
        "pass_id": str(uuid.UUID(bytes=cti)),
        "purpose": _text(p, PASS_PURPOSE, "purpose"),
        "regime": _text(p, PASS_REGIME, "regime"),
        "holder": _text(p, PASS_HOLDER, "holder"),
        "area": _text(p, PASS_AREA, "area", optional=True),
        "vehicle": _text(p, PASS_VEHICLE, "vehicle", optional=True),
    }


def verify_token(
    text: str,
    keys: dict[bytes, VerifyKey],
    now: int,
    revoked: frozenset[str] | set[str] = frozenset(),
) -> Verdict:
    """Verify QR text at unix time `now`.

    Order: malformed envelope -> unknown_key -> bad_signature ->
    malformed claims -> revoked -> not_yet_valid (now < nbf) ->
    expired (now >= exp) -> valid.
    `revoked` holds pass ids as lowercase hyphenated UUID strings.
    Never raises on any input text.
    """
    try:
        env = parse_envelope(unwrap_qr(text))
        kid = b64u(env.kid)
        key = keys.get(env.kid)
        if key is None:
            return Verdict("unknown_key", kid=kid)
        if key.alg != env.alg or not key.verify(env.signature, sig_structure(env.protected, env.payload)):
            return Verdict("bad_signature", kid=kid)
        c = parse_claims(env.payload)
    except Malformed as e:
        return Verdict("malformed", reason=str(e))
    except Exception as e:  # belt and braces: never raise
        return Verdict("malformed", reason=f"unexpected: {type(e).__name__}: {e}")
    if c["pass_id"] in revoked:
        v = "revoked"
    elif now < c["nbf"]:
        v = "not_yet_valid"
    elif now >= c["exp"]:
        v = "expired"
    else:
        v = "valid"
    return Verdict(v, kid=kid, claims=c)


def tamper_purpose(cose: bytes, purpose: str) -> bytes:
    """Re-encode a COSE_Sign1 with a changed purpose, keeping the old signature."""
    protected, unprotected, payload, signature = cbor2.loads(cose).value
    claims = cbor2.loads(payload)
    claims[CWT_PASS] = dict(claims[CWT_PASS])
    claims[CWT_PASS][PASS_PURPOSE] = purpose
    arr = [protected, dict(unprotected), cbor2.dumps(claims), signature]
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, arr))


def load_revocations(text: str) -> set[str]:
    """One page of /api/v1/revocations as JSON: {"sequence": N, "revoked": [{"seq", "pass_id"}], …}."""
    doc = json.loads(text)
    return {str(uuid.UUID(e["pass_id"])) for e in doc["revoked"]}


def compact_revocation_key(pass_id: str) -> bytes:
    """The compact list's key of a pass: the first 8 bytes of SHA-256 over the id's 16 bytes."""
    return hashlib.sha256(uuid.UUID(pass_id).bytes).digest()[:8]


def load_compact_revocations(data: bytes) -> dict:
    """A compact revocation page (format=compact): big-endian header, then 12-byte entries."""
    if data[:4] != b"PRL1":
        raise ValueError("not a compact revocation page")
    sequence, latest, n = struct.unpack(">QQH", data[4:22])
    cursor = data[22:22 + n].decode("ascii")
    (count,) = struct.unpack(">I", data[22 + n:26 + n])
    body = data[26 + n:]
    if len(body) != 12 * count:
        raise ValueError(f"{count} entries announced, {len(body)} bytes follow")
    entries = [(body[i:i + 8], struct.unpack(">I", body[i + 8:i + 12])[0]) for i in range(0, len(body), 12)]
    return {"sequence": sequence, "latest": latest, "next": cursor or None,
            "keys": {k for k, _ in entries}, "until": [u for _, u in entries]}


# ---------------------------------------------------------------------------
# self-test: this implementation against itself


def _selftest() -> int:
    import os

    fails = []

    def check(name, got, want):
        if got != want:
            fails.append(f"{name}: expected {want!r}, got {got!r}")

    # RFC 9285 examples
    check("b45 AB", b45encode(b"AB"), "BB8")
    check("b45 Hello!!", b45encode(b"Hello!!"), "%69 VD92EX0")
    check("b45 base-45", b45encode(b"base-45"), "UJCLQE7W581")
    check("b45 decode ietf!", b45decode("QED8WEX0"), b"ietf!")
    for bad in ("GGW", "ZZZ", "A", "abc"):
        try:
            b45decode(bad)
            fails.append(f"b45decode({bad!r}) should fail")
        except ValueError:
            pass
    for n in range(0, 40):
        data = os.urandom(n)
        check(f"b45 roundtrip {n}", b45decode(b45encode(data)), data)

    T0 = 1767261600  # 2026-01-01T10:00:00Z
    for alg in ("ed25519", "es256"):
        k, other = generate_key(alg), generate_key(alg)
        keys = import_jwks(export_jwks([k, generate_key("es256"), generate_key("ed25519")]))
        check(f"{alg} jwks kid", k.kid in keys, True)
        base = dict(iss="RU-MOW", iat=T0 - 60, nbf=T0, exp=T0 + 3 * 3600, cti=os.urandom(16),
                    purpose="shopping", regime="moscow-2020", holder="И.И. 4567")
        now = T0 + 3600
        tok = sign_token(k, **base)
        v = verify_token(tok, keys, now)
        check(f"{alg} valid", v.verdict, "valid")
        check(f"{alg} claims", v.claims["holder"], "И.И. 4567")
        check(f"{alg} uncompressed", verify_token(sign_token(k, compress=False, **base), keys, now).verdict, "valid")
        check(f"{alg} at nbf", verify_token(tok, keys, T0).verdict, "valid")
        check(f"{alg} before nbf", verify_token(tok, keys, T0 - 1).verdict, "not_yet_valid")
        check(f"{alg} at exp", verify_token(tok, keys, T0 + 3 * 3600).verdict, "expired")
        check(f"{alg} revoked", verify_token(tok, keys, now, {v.claims["pass_id"]}).verdict, "revoked")
        check(f"{alg} unknown", verify_token(sign_token(other, **base), keys, now).verdict, "unknown_key")
        # tamper: same protected + signature, changed payload
        cose = unwrap_qr(tok)
        check(f"{alg} tampered", verify_token(wrap_qr(tamper_purpose(cose, "work")), keys, now).verdict,
              "bad_signature")
        # a repeated claim key (second exp) and bytes after the zlib stream are malformed
        m = claims_map(**base)
        body = b"".join(cbor2.dumps(a) + cbor2.dumps(b) for a, b in m.items())
        dup = bytes([0xA0 + len(m) + 1]) + body + cbor2.dumps(CWT_EXP) + cbor2.dumps(T0 + 10**8)
        check(f"{alg} duplicate exp", verify_token(wrap_qr(sign_cose(k, dup)), keys, now).verdict, "malformed")
        junk = PREFIX + b45encode(zlib.compress(cose) + b"JUNK")
        check(f"{alg} bytes after zlib", verify_token(junk, keys, now).verdict, "malformed")
        # alg confusion: header says the other alg
        wrong = ALG_ES256 if k.alg == ALG_EDDSA else ALG_EDDSA
        conf = wrap_qr(sign_cose(k, cbor2.dumps(claims_map(**base)), alg=wrong))
        check(f"{alg} alg confusion", verify_token(conf, keys, now).verdict, "bad_signature")
        for name, t in [("PR2", "PR2:" + tok[4:]), ("noprefix", tok[4:]), ("truncated", tok[:-10]),
                        ("garbage", "hello, this is not a pass"), ("empty", ""), ("prefix only", "PR1:")]:
            check(f"{alg} {name}", verify_token(t, keys, now).verdict, "malformed")
        # fuzz a little: never raises, never valid
        for i in range(300):
            b = bytearray(tok.encode())
            pos = 4 + i % (len(b) - 4)
            b[pos] = ord(B45_ALPHABET[(B45_VALUE[chr(b[pos])] + 1 + i // 45) % 45])
            r = verify_token(b.decode(), keys, now)
            if r.verdict == "valid":
                fails.append(f"{alg} fuzz {i}: mutated token verified valid")

    for f in fails:
        print("FAIL", f)
    print(f"pytoken selftest: {'ok' if not fails else f'{len(fails)} failed'}")
    return 1 if fails else 0


if __name__ == "__main__":
    raise SystemExit(_selftest())
