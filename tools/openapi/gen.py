import json

def ref(kind, name): return {"$ref": f"#/components/{kind}/{name}"}
S = lambda n: ref("schemas", n)
R = lambda n: ref("responses", n)

def nullable(schema):
    """schema or null (JSON Schema 2020-12 style)."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    s = dict(schema)
    t = s["type"]
    s["type"] = [t, "null"] if isinstance(t, str) else t + ["null"]
    return s

def obj(props, required=None, desc=None, extra=True):
    o = {"type": "object", "properties": props,
         "required": list(props) if required is None else required}
    if desc: o["description"] = desc
    return o

def json_body(schema, desc=None, example=None):
    b = {"required": True, "content": {"application/json": {"schema": schema}}}
    if desc: b["description"] = desc
    if example is not None: b["content"]["application/json"]["example"] = example
    return b

def ok(desc, schema, example=None):
    r = {"description": desc, "content": {"application/json": {"schema": schema}}}
    if example is not None: r["content"]["application/json"]["example"] = example
    return r

def problem(desc, codes, status, extra_props=None, headers=None, example=None):
    """A problem response narrowed to the given codes."""
    narrowed = {"properties": {"status": {"const": status},
                               "code": {"enum": codes} if len(codes) > 1 else {"const": codes[0]}}}
    if extra_props:
        narrowed["properties"].update(extra_props)
        req = [k for k in ("retry_after_s", "errors") if k in extra_props]
        if req: narrowed["required"] = req
    r = {"description": desc,
         "content": {"application/problem+json": {"schema": {"allOf": [S("Problem"), narrowed]}}}}
    if headers: r["headers"] = headers
    if example is not None: r["content"]["application/problem+json"]["example"] = example
    return r

def with_code(response, code):
    """`response` (a 422 narrowed to some codes, or None) also allowing `code`."""
    if response is None:
        return R("ControlCharacter")
    if "$ref" in response:
        return response
    schema = response["content"]["application/problem+json"]["schema"]
    props = schema["allOf"][1]["properties"] if "allOf" in schema else None
    if props is None or "code" not in props:
        return response
    codes = props["code"].get("enum") or [props["code"]["const"]]
    props["code"] = {"enum": sorted(set(codes + [code]))}
    props.pop("field", None)
    # The members the other codes always carry (`errors`) are not there with this one.
    schema["allOf"][1].pop("required", None)
    response["description"] += f" `{code}`: a text holds a control character (`field` names it)."
    return response

def bearer(*roles): return [{"bearerAuth": [r]} for r in roles]
PUBLIC = []

DT = {"type": "string", "format": "date-time"}
UUID = {"type": "string", "format": "uuid"}

def op(op_id, summary, tags, responses, security, desc=None, body=None, params=None,
       auth=True, body_json=True):
    o = {"operationId": op_id, "summary": summary, "tags": tags}
    if desc: o["description"] = desc
    if params: o["parameters"] = params
    if body: o["requestBody"] = body
    o["security"] = security
    rs = dict(responses)
    if body is not None and body_json and "400" not in rs:
        rs["400"] = R("BadRequest")
    if body is not None:
        # Every body is bounded, must arrive in time, and may hold no control character.
        rs.setdefault("408", R("BodyTimeout"))
        rs.setdefault("413", R("BodyTooLarge"))
        if body_json:
            rs["422"] = with_code(rs.get("422"), "control_character")
    if auth:
        rs.setdefault("401", R("Unauthorized"))
        rs.setdefault("403", R("Forbidden"))
    rs.setdefault("500", R("Internal"))
    rs.setdefault("503", R("Overloaded"))
    o["responses"] = dict(sorted(rs.items(), key=lambda kv: kv[0]))
    return o

def role_note(text): return f"**Role:** {text}."

pass_id_param = {"name": "id", "in": "path", "required": True, "description": "Pass id.", "schema": UUID}

# ---------------------------------------------------------------- schemas
schemas = {}

schemas["Problem"] = {
    "type": "object",
    "description": (
        "RFC 9457 problem details. `code` is the stable machine code to branch on; `detail` is human "
        "text in the caller's language (Russian by default, English with `Accept-Language: en`) saying "
        "what was wrong and what is expected. Optional members appear only where they apply."),
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri", "pattern": "^urn:propusk:problem:[a-z0-9_]+$",
                 "description": "`urn:propusk:problem:<code>`.", "examples": ["urn:propusk:problem:quota_exceeded"]},
        "title": {"type": "string", "description": "The HTTP reason phrase of `status`.", "examples": ["Unprocessable Entity"]},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "Human explanation, localized."},
        "code": {"type": "string", "pattern": "^[a-z0-9_]+$",
                 "description": "Stable snake_case machine code (also the tail of `type`).",
                 "examples": ["quota_exceeded"]},
        "field": {"type": "string", "description": "The request member at fault, when one is.",
                  "examples": ["employer_inn"]},
        "next_possible_at": {**DT, "description": "The earliest moment the refused request could succeed, when known."},
        "retry_after_s": {"type": "integer", "minimum": 0,
                          "description": "Seconds to wait before retrying; same value as the `Retry-After` header."},
        "attempts_left": {"type": "integer", "minimum": 0,
                          "description": "Wrong one-time-code attempts left before the code is burnt."},
        "errors": {"type": "array", "description": "Every error found, when there are several.",
                   "items": {"anyOf": [S("FieldError"), S("SourceError")]}},
    },
}
schemas["FieldError"] = obj({
    "field": {"type": "string", "description": "Path of the member, dotted (e.g. `document.number`).",
              "examples": ["document.number"]},
    "code": {"type": "string", "pattern": "^[a-z0-9_]+$", "examples": ["invalid_field"]},
    "detail": {"type": "string"},
}, desc="One invalid request member.")
schemas["SourceError"] = obj({
    "line": {"type": "integer", "minimum": 1},
    "column": {"type": "integer", "minimum": 1},
    "detail": {"type": "string", "description": "What is wrong and what is expected."},
}, desc="One error in an uploaded regime file, with its position (1-based).")

schemas["Phone"] = {"type": "string", "description": "Phone number, E.164 preferred (`+79161234567`); "
                    "common Russian spellings (`8 916 123-45-67`) are accepted and normalised.",
                    "examples": ["+79161234567"]}

schemas["OtpRequest"] = obj({"phone": S("Phone")})
schemas["OtpSent"] = obj({"status": {"const": "sent"},
                          "expires_in_s": {"type": "integer", "description": "Lifetime of the code in seconds.",
                                           "examples": [300]}})
schemas["OtpVerifyRequest"] = obj({"phone": S("Phone"),
                                   "code": {"type": "string", "description": "The code from the SMS.",
                                            "examples": ["482913"]}})
schemas["ResidentSession"] = obj({
    "token": {"type": "string", "description": "Bearer token for `Authorization: Bearer …`."},
    "expires_at": DT,
    "role": {"const": "resident"},
    "resident_id": UUID,
})
schemas["LoginRequest"] = obj({"username": {"type": "string"}, "password": {"type": "string", "format": "password"}})
schemas["StaffRole"] = {"type": "string", "enum": ["inspector", "health", "admin"]}
schemas["StaffSession"] = obj({
    "token": {"type": "string", "description": "Bearer token for `Authorization: Bearer …`."},
    "expires_at": DT,
    "role": S("StaffRole"),
})

schemas["DocumentType"] = {"type": "string",
                           "enum": ["passport_ru", "foreign_passport_ru", "birth_certificate_ru", "foreign_document"],
                           "description": "Identity document kind; the number is validated per kind."}
schemas["Document"] = obj({"type": S("DocumentType"),
                           "number": {"type": "string", "examples": ["4510 123456"]}})
schemas["Home"] = obj({"address": {"type": "string"},
                       "lat": {"type": "number", "minimum": -90, "maximum": 90},
                       "lon": {"type": "number", "minimum": -180, "maximum": 180}},
                      desc="Home address with its coordinates (WGS 84).")
schemas["Profile"] = obj({"full_name": {"type": "string"}, "document": S("Document"), "home": S("Home")},
                         desc="What a resident must state before passes are issued.")
schemas["Me"] = obj({
    "id": UUID,
    "phone": {"type": "string", "description": "E.164.", "examples": ["+79161234567"]},
    "lang": {"type": "string", "enum": ["ru", "en"], "description": "Preferred language for SMS and pages."},
    "profile": nullable(S("Profile")),
}, desc="The signed-in resident. `profile` is null until it is filled in with `PUT /api/v1/me`.")

schemas["Window"] = {"type": "string", "pattern": "^(day|week|month|[0-9]+[dh])$",
                     "description": "`day`, `week` (Monday–Sunday), `month` — calendar periods in the regime's "
                                    "time zone — or a rolling window `<N>d` / `<N>h` (at most 31 days).",
                     "examples": ["day", "7d"]}
schemas["Limit"] = obj({"count": {"type": "integer", "minimum": 1}, "per": S("Window")},
                       desc="At most `count` passes per window.")
schemas["Hours"] = obj({"from": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "examples": ["08:00"]},
                        "to": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "examples": ["22:00"]}},
                       desc="Allowed start hours, local time in the regime's time zone; may wrap past midnight.")
schemas["Names"] = obj({"ru": {"type": "string", "examples": ["Покупка продуктов или лекарств"]},
                        "en": {"type": "string", "examples": ["Grocery or pharmacy"]}},
                       desc="A name in Russian and English.")
schemas["PurposeField"] = {"type": "string", "enum": ["employer_inn", "employer_name", "vehicle_plate"]}
schemas["Purpose"] = obj({
    "id": {"type": "string", "examples": ["shopping"]},
    "sms_code": {"type": "integer", "minimum": 1, "maximum": 9, "description": "The digit to send by SMS."},
    "name": S("Names"),
    "max_minutes": {"type": ["integer", "null"], "minimum": 1,
                    "description": "Maximum (and default) duration; null when the pass lasts until the end of the day."},
    "until_end_of_day": {"type": "boolean", "description": "The pass is valid until the end of the local day."},
    "quota": nullable(S("Limit")),
    "hours": nullable(S("Hours")),
    "max_distance_m": {"type": ["number", "null"], "minimum": 0,
                       "description": "Destination at most this far from home (needs `destination`)."},
    "required_fields": {"type": "array", "items": S("PurposeField")},
    "always_allowed": {"type": "boolean", "description": "No quota, no hours, not counted in the regime cap (emergency)."},
})
schemas["Regime"] = obj({
    "id": {"type": "string", "examples": ["moscow-2020"]},
    "name": S("Names"),
    "legal_act": {"type": "string", "description": "The legal act the rules come from."},
    "issuer": {"type": "string", "description": "Issuing authority code, the token's `iss`.", "examples": ["RU-MOW"]},
    "time_zone": {"type": "string", "description": "IANA name.", "examples": ["Europe/Moscow"]},
    "effective_from": DT,
    "until": nullable({**DT, "description": "Exclusive end; null when open-ended."}),
    "cap": nullable(S("Limit")),
    "purposes": {"type": "array", "items": S("Purpose")},
}, desc="A regime: the rules of one legal act. `cap` limits passes across all purposes except always-allowed ones.")

schemas["LatLon"] = obj({"lat": {"type": "number", "minimum": -90, "maximum": 90},
                         "lon": {"type": "number", "minimum": -180, "maximum": 180}})
schemas["IssueRequest"] = {
    "type": "object",
    "required": ["purpose"],
    "properties": {
        "purpose": {"type": "string", "description": "A purpose id of the regime in force.", "examples": ["shopping"]},
        "valid_from": {**DT, "description": "Start of validity; default now. Not in the past, not too far ahead."},
        "duration_minutes": {"type": "integer", "minimum": 1,
                             "description": "Default and maximum: the purpose's `max_minutes`."},
        "employer_inn": {"type": "string", "description": "Russian INN (10 or 12 digits, checksum verified).",
                         "examples": ["7707083893"]},
        "employer_name": {"type": "string"},
        "vehicle_plate": {"type": "string", "examples": ["А123ВС777"]},
        "destination": {**S("LatLon"), "description": "Where the trip goes; needed for purposes with `max_distance_m`."},
    },
    "description": "Purpose fields (`employer_inn`, …) are required when the purpose lists them in `required_fields`.",
}
schemas["PassStatus"] = {"type": "string", "enum": ["active", "upcoming", "expired", "cancelled"]}
schemas["Pass"] = obj({
    "id": UUID,
    "short_code": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Y]{3}-[0-9A-HJKMNP-TV-Y]{3}-[0-9A-HJKMNP-TV-Y]{3}$",
                   "description": "For SMS users and typing; checked online only.", "examples": ["7K3-QX9-4MP"]},
    "token": {"type": "string", "pattern": "^PR1:[0-9A-Z $%*+\\-./:]+$",
              "description": "The signed pass token, the QR text (see docs/token-format.md)."},
    "purpose": {"type": "string"},
    "regime": {"type": "string", "description": "Regime id."},
    "valid_from": DT,
    "valid_until": DT,
    "issued_at": DT,
    "status": S("PassStatus"),
    "cancelled_at": nullable(DT),
    "fields": {"type": "object", "additionalProperties": {"type": "string"},
               "description": "Purpose fields given at issuance (e.g. `employer_inn`).",
               "examples": [{"employer_inn": "7707083893"}]},
})
schemas["PassList"] = obj({"passes": {"type": "array", "items": S("Pass")}})

schemas["VerifyRequest"] = {
    "oneOf": [
        {"type": "object", "required": ["token"], "properties": {"token": {"type": "string", "description": "`PR1:…` QR text."}}},
        {"type": "object", "required": ["short_code"],
         "properties": {"short_code": {"type": "string", "description": "`XXX-XXX-XXX`; dashes and case are forgiven.",
                                       "examples": ["7K3-QX9-4MP"]}}},
    ],
}
schemas["Verdict"] = {"type": "string",
                      "enum": ["valid", "expired", "not_yet_valid", "revoked", "unknown_key", "bad_signature", "malformed"]}
schemas["VerifyResult"] = obj({
    "verdict": S("Verdict"),
    "reason": {"type": ["string", "null"], "description": "Why, when the verdict is not `valid`."},
    "pass_id": nullable(UUID),
    "purpose": {"type": ["string", "null"]},
    "regime": {"type": ["string", "null"]},
    "holder": {"type": ["string", "null"],
               "description": "Holder hint: initials and the last 4 characters of the document — enough to match the person, no more.",
               "examples": ["И.И.П. …3456"]},
    "valid_from": nullable(DT),
    "valid_until": nullable(DT),
    "kid": {"type": ["string", "null"], "description": "Signing key id, base64url."},
}, desc="Members other than `verdict` are null when not known (e.g. a malformed token).")

schemas["Jwk"] = {
    "type": "object",
    "required": ["kty", "crv", "x", "kid", "alg", "use"],
    "properties": {
        "kty": {"type": "string", "enum": ["OKP", "EC"]},
        "crv": {"type": "string", "enum": ["Ed25519", "P-256"]},
        "x": {"type": "string", "description": "base64url."},
        "y": {"type": "string", "description": "base64url; EC keys only."},
        "kid": {"type": "string", "description": "base64url of the 8-byte key id (SHA-256 of the SPKI DER, truncated)."},
        "alg": {"type": "string", "enum": ["EdDSA", "ES256"]},
        "use": {"const": "sig"},
    },
}
schemas["Jwks"] = obj({"keys": {"type": "array", "items": S("Jwk")}}, desc="RFC 7517 key set: every key a valid pass may be signed with.")
schemas["Revocation"] = obj({"seq": {"type": "integer", "minimum": 1}, "pass_id": UUID,
                             "valid_until": {**DT, "description": "After this the entry can be dropped."}})
schemas["Revocations"] = obj({
    "sequence": {"type": "integer", "minimum": 0,
                 "description": "After applying this page the reader holds every revocation of a live pass numbered up "
                                "to here. Store it; once `next` is null, start the next sync with `since` = it."},
    "latest": {"type": "integer", "minimum": 0,
               "description": "The newest revocation when this sync began: the sync ends there (for progress)."},
    "next": {"type": ["string", "null"], "pattern": "^[0-9]+\\.[0-9]+$",
             "description": "The cursor of the next page (pass it as `next`), or null when this page ends the sync."},
    "revoked": {"type": "array", "items": S("Revocation"),
                "description": "Revocations of passes not yet expired, oldest first."},
}, desc="One page of the revocation list.")

schemas["RegimeLoaded"] = obj({"id": {"type": "string"}, "effective_from": DT,
                               "in_force_now": {"type": "boolean"}})
schemas["RegimeSummary"] = obj({
    "id": {"type": "string"}, "name": S("Names"), "effective_from": DT,
    "until": nullable(DT),
    "source": {"type": "string", "enum": ["builtin", "loaded"]},
    "in_force": {"type": "boolean"},
})
schemas["RegimeList"] = obj({"regimes": {"type": "array", "items": S("RegimeSummary")}})
schemas["RevokeRequest"] = obj({"reason": {"type": "string", "description": "Recorded in the audit log."}})
schemas["RevokeResult"] = obj({"revoked": {"type": "integer", "minimum": 0, "description": "Passes revoked by this call."}})

# ---------------------------------------------------------------- headers, responses
headers = {"Retry-After": {"description": "Seconds to wait before retrying.",
                           "schema": {"type": "integer", "minimum": 0}}}
RA = {"Retry-After": ref("headers", "Retry-After")}

responses = {
    "BadRequest": problem("`bad_request`: the body is not valid JSON or does not have the expected shape.",
                          ["bad_request"], 400),
    "Unauthorized": problem("`unauthorized`: no bearer token, or it is invalid or expired.", ["unauthorized"], 401),
    "Forbidden": problem("`forbidden`: the token's role may not do this.", ["forbidden"], 403),
    "PassNotFound": problem("`pass_not_found`: no such pass — also for someone else's pass.", ["pass_not_found"], 404),
    "Internal": problem("`internal`: unexpected server error (details are logged, not shown).", ["internal"], 500),
    "Overloaded": problem("`overloaded`: the server is past capacity; retry after `Retry-After` seconds.",
                          ["overloaded"], 503, {"retry_after_s": {"type": "integer"}}, RA),
    "BodyTooLarge": problem("`body_too_large`: the body is larger than this operation takes (`max_bytes`).",
                            ["body_too_large"], 413, {"max_bytes": {"type": "integer"}}),
    "BodyTimeout": problem("`body_timeout`: the body did not arrive in time.", ["body_timeout"], 408),
    "ControlCharacter": problem("`control_character`: a text holds a control character such as NUL; "
                                "`field` names it.", ["control_character"], 422, {"field": {"type": "string"}}),
}

issue_codes = ["profile_incomplete", "valid_from_in_past", "valid_from_too_far_ahead", "no_regime_in_force",
               "regime_not_yet_in_force", "regime_ended", "unknown_purpose", "missing_field", "invalid_field",
               "invalid_duration", "duration_too_long", "outside_allowed_hours", "too_far_from_home",
               "quota_exceeded", "regime_cap_exceeded"]

# ---------------------------------------------------------------- paths
paths = {}

paths["/api/v1/auth/otp"] = {"post": op(
    "requestOtp", "Send a one-time sign-in code by SMS", ["auth"],
    {"202": ok("Code sent (by SMS).", S("OtpSent"), {"status": "sent", "expires_in_s": 300}),
     "422": problem("`invalid_phone`: not a phone number we can send to.", ["invalid_phone"], 422, {"field": {"const": "phone"}}),
     "429": problem("`otp_rate_limited`: too many codes asked for this phone (from anyone, or by this "
                    "requester); `otp_client_rate_limited`: too many codes asked from this address; wait "
                    "`retry_after_s`.",
                    ["otp_rate_limited", "otp_client_rate_limited"], 429, {"retry_after_s": {"type": "integer"}}, RA),
     "503": problem("`otp_capacity`: the service sends no more codes a second than its SMS budget allows; "
                    "`overloaded`: past capacity. Wait `retry_after_s`.",
                    ["otp_capacity", "overloaded"], 503, {"retry_after_s": {"type": "integer"}}, RA)},
    PUBLIC, auth=False, desc=role_note("public") + " Codes are rate-limited per phone, per requester of a "
    "phone, per client address and in all; they expire and work once.",
    body=json_body(S("OtpRequest"), example={"phone": "+79161234567"}))}

paths["/api/v1/auth/otp/verify"] = {"post": op(
    "verifyOtp", "Exchange the SMS code for a resident token", ["auth"],
    {"200": ok("Signed in; registers the resident on first sign-in.", S("ResidentSession")),
     "401": problem("`otp_wrong` (with `attempts_left`), or `otp_expired`: no live code for this phone "
                    "(expired, already used, or too many wrong tries) — ask for a new one.",
                    ["otp_wrong", "otp_expired"], 401),
     "422": problem("`invalid_phone`: not a phone number we can send to.", ["invalid_phone"], 422)},
    PUBLIC, auth=False, desc=role_note("public"),
    body=json_body(S("OtpVerifyRequest"), example={"phone": "+79161234567", "code": "482913"}))}

paths["/api/v1/auth/login"] = {"post": op(
    "login", "Staff sign-in with username and password", ["auth"],
    {"200": ok("Signed in.", S("StaffSession")),
     "401": problem("`bad_credentials`: unknown username or wrong password.", ["bad_credentials"], 401),
     "429": problem("`sign_in_throttled`: too many wrong passwords for this username or from this address; "
                    "each further one doubles the wait. Wait `retry_after_s`.",
                    ["sign_in_throttled"], 429, {"retry_after_s": {"type": "integer"}}, RA),
     "503": problem("`sign_in_busy`: every password check is taken; `overloaded`: past capacity.",
                    ["sign_in_busy", "overloaded"], 503, {"retry_after_s": {"type": "integer"}}, RA)},
    PUBLIC, auth=False, desc=role_note("public; for staff accounts (inspector, health, admin)"),
    body=json_body(S("LoginRequest")))}

paths["/api/v1/auth/logout"] = {"post": op(
    "logout", "Invalidate the bearer token", ["auth"],
    {"204": {"description": "Signed out; the token no longer works."}},
    bearer("resident", "inspector", "health", "admin"), desc=role_note("any signed-in user"))}
del paths["/api/v1/auth/logout"]["post"]["responses"]["403"]

paths["/api/v1/me"] = {
    "get": op("getMe", "The signed-in resident", ["residents"],
              {"200": ok("The resident.", S("Me"))}, bearer("resident"), desc=role_note("resident")),
    "put": op("putMe", "State or replace the resident's profile", ["residents"],
              {"200": ok("Saved.", S("Me")),
               "422": problem("`invalid_profile`: one or more members are invalid; `errors` lists each.",
                              ["invalid_profile"], 422,
                              {"errors": {"type": "array", "items": S("FieldError")}})},
              bearer("resident"),
              desc=role_note("resident") + " Required before passes can be issued. The document number is validated per type.",
              body=json_body(S("Profile"), example={
                  "full_name": "Иванов Иван Петрович",
                  "document": {"type": "passport_ru", "number": "4510 123456"},
                  "home": {"address": "Москва, ул. Тверская, 1, кв. 5", "lat": 55.7575, "lon": 37.6136}})),
}

paths["/api/v1/regime"] = {"get": op(
    "getRegime", "The regime in force now", ["regimes"],
    {"200": ok("The rules that apply to passes issued now.", S("Regime")),
     "404": problem("`no_regime_in_force`: no regime is in force at this moment.", ["no_regime_in_force"], 404)},
    PUBLIC, auth=False, desc=role_note("public") + " Names are in the caller's language (`Accept-Language`).")}

paths["/api/v1/passes"] = {
    "post": op("issuePass", "Ask for a pass", ["passes"],
               {"201": ok("Issued.", S("Pass")),
                "422": problem(
                    "Refused. `code` says why; `field` names the member at fault and `next_possible_at` "
                    "the earliest moment it could succeed, where known.", issue_codes, 422)},
               bearer("resident"),
               desc=role_note("resident") + " Checks everything the regime in force says — profile, purpose, "
                    "fields, duration, hours, distance, quota and cap — atomically.",
               body=json_body(S("IssueRequest"), example={"purpose": "shopping", "duration_minutes": 120})),
    "get": op("listPasses", "The resident's own passes", ["passes"],
              {"200": ok("Newest first.", S("PassList"))}, bearer("resident"), desc=role_note("resident")),
}

paths["/api/v1/passes/{id}"] = {
    "parameters": [pass_id_param],
    "get": op("getPass", "One of the resident's passes", ["passes"],
              {"200": ok("The pass.", S("Pass")), "404": R("PassNotFound")},
              bearer("resident"), desc=role_note("resident, the holder")),
    "delete": op("cancelPass", "Cancel (revoke) a pass", ["passes"],
                 {"200": ok("Cancelled; `status` is `cancelled`. The id appears in the revocation list.", S("Pass")),
                  "404": R("PassNotFound"),
                  "409": problem("`already_cancelled`: the pass was cancelled before.", ["already_cancelled"], 409)},
                 bearer("resident", "admin"), desc=role_note("the holder (resident), or admin")),
}

paths["/api/v1/passes/{id}/qr.svg"] = {
    "parameters": [pass_id_param],
    "get": op("getPassQrSvg", "The pass token as a QR code (SVG)", ["passes"],
              {"200": {"description": "QR code of the token.",
                       "content": {"image/svg+xml": {"schema": {"type": "string"}}}},
               "404": R("PassNotFound")},
              bearer("resident"), desc=role_note("resident, the holder"))}

paths["/api/v1/passes/{id}/qr.png"] = {
    "parameters": [pass_id_param],
    "get": op("getPassQrPng", "The pass token as a QR code (PNG)", ["passes"],
              {"200": {"description": "QR code of the token.", "content": {"image/png": {}}},
               "404": R("PassNotFound")},
              bearer("resident"), desc=role_note("resident, the holder"))}

paths["/api/v1/verify"] = {"post": op(
    "verifyPass", "Check a pass by token or short code", ["verification"],
    {"200": ok("The verdict. A token always gets a verdict, however broken it is.", S("VerifyResult"),
               {"verdict": "valid", "reason": None, "pass_id": "0192f1a4-5b6c-7d8e-9f00-112233445566",
                "purpose": "shopping", "regime": "moscow-2020", "holder": "И.И.П. …3456",
                "valid_from": "2020-04-20T10:00:00+03:00", "valid_until": "2020-04-20T13:00:00+03:00",
                "kid": "q1w2e3r4t5Y"}),
     "404": problem("`short_code_not_found`: the short code is well-formed but no pass has it.", ["short_code_not_found"], 404),
     "422": problem("`invalid_short_code`: not a short code (wrong length, character, or check symbol; "
                    "`field` is `short_code`); `token_or_short_code`: neither or both were given.",
                    ["invalid_short_code", "token_or_short_code"], 422)},
    bearer("inspector", "admin"),
    desc=role_note("inspector or admin") + " Short codes are looked up online only; tokens can also be checked "
         "offline with the JWKS and the revocation list.",
    body=json_body(S("VerifyRequest"), example={"short_code": "7K3-QX9-4MP"}))}

schemas["CheckReport"] = {
    "type": "object", "additionalProperties": False,
    "description": "Counts of checks since the app's last report, by who decided (`device`: the phone from its "
                   "cached lists; `server`: a typed short code) and verdict. Nothing identifies a pass, a holder "
                   "or a place.",
    "properties": {k: {"type": "object", "additionalProperties": False,
                       "properties": {v: {"type": "integer", "minimum": 0, "maximum": 5000}
                                      for v in ["valid", "expired", "not_yet_valid", "revoked", "unknown_key",
                                                "bad_signature", "malformed"]}}
                   for k in ["device", "server"]}}
schemas["ChecksRecorded"] = obj({"recorded": {"type": "integer", "minimum": 0}})
paths["/api/v1/inspector/checks"] = {"post": op(
    "recordChecks", "Report how many passes were checked, for the public counters", ["verification"],
    {"200": ok("Added to `/metrics` (`propusk_inspector_checks_total`).", S("ChecksRecorded"), {"recorded": 13}),
     "422": problem("`invalid_check_report`: an unknown verdict or a count above 5,000; `field` names it.",
                    ["invalid_check_report"], 422, {"field": {"type": "string"}}),
     "429": problem("`implausible_check_count`: more checks than one inspector can make in the time; "
                    "a shift's worth at once, then one a second.",
                    ["implausible_check_count"], 429, {"retry_after_s": {"type": "integer"}}, RA)},
    bearer("inspector", "admin"), desc=role_note("inspector or admin"),
    body=json_body(S("CheckReport"), example={"device": {"valid": 12, "revoked": 1}, "server": {"valid": 2}}))}

paths["/.well-known/propusk/keys"] = {"get": op(
    "getKeys", "Public keys that sign passes (JWKS)", ["verification"],
    {"200": {"description": "The key set.", "content": {"application/json": {"schema": S("Jwks")},
                                                         "application/jwk-set+json": {"schema": S("Jwks")}}}},
    PUBLIC, auth=False, desc=role_note("public") + " Match a token's `kid` header to a key's `kid`.")}

paths["/api/v1/revocations"] = {"get": op(
    "listRevocations", "Revoked pass ids, paged, for delta sync", ["verification"],
    {"200": {"description": "A page of revocations of passes not yet expired, after `since` (or where `next` "
                            "points), oldest first. gzip-compressed when `Accept-Encoding` allows it; a weak `ETag` "
                            "for `If-None-Match`; `Cache-Control: public, max-age=30`.",
             "headers": {"ETag": {"description": "Weak validator of the page.", "schema": {"type": "string"}}},
             "content": {"application/json": {"schema": S("Revocations"),
                                              "example": {"sequence": 2, "latest": 2, "next": None, "revoked": [
                                                  {"seq": 1, "pass_id": "0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b",
                                                   "valid_until": "2020-04-15T20:59:59Z"},
                                                  {"seq": 2, "pass_id": "6c5b4a39-2817-4605-9f4e-3d2c1b0a9f8e",
                                                   "valid_until": "2020-04-15T12:30:00Z"}]}},
                         "application/vnd.propusk.revocations": {
                             "schema": {"type": "string", "format": "binary",
                                        "description": "`format=compact`: the same page, 12 bytes an entry "
                                                       "(docs/token-format.md, \"Compact revocation pages\")."}}}},
     "304": {"description": "`If-None-Match` named this page's ETag: nothing was revoked since."},
     "400": problem("A parameter out of range: `invalid_since`, `invalid_limit` (1–10000), `invalid_next` (a cursor "
                    "this server did not issue, or beyond the newest revocation), `invalid_format`, "
                    "`since_with_next`; `bad_request`: a parameter that is not a number, or given twice.",
                    ["bad_request", "invalid_since", "invalid_limit", "invalid_next", "invalid_format",
                     "since_with_next"], 400)},
    PUBLIC, auth=False,
    desc=role_note("public") + " Offline verifiers sync the list page by page: the first request gives `since` "
         "(the `sequence` stored after the last sync, 0 for none); while an answer has a `next` cursor, ask for it. "
         "Every page is gap-free and the sync is bounded by the newest revocation when it began, so nothing is "
         "missed or repeated while revocations go on, on any node. Only revocations of passes not yet expired are "
         "listed: an expired pass fails verification anyway.",
    params=[{"name": "since", "in": "query", "required": False,
             "description": "Start a sync after this sequence number; 0 (default) for the whole list. Not with `next`.",
             "schema": {"type": "integer", "minimum": 0, "default": 0}},
            {"name": "next", "in": "query", "required": False,
             "description": "Continue a sync: the `next` cursor of the previous page.",
             "schema": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+$"}},
            {"name": "limit", "in": "query", "required": False, "description": "Entries per page.",
             "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10000}},
            {"name": "format", "in": "query", "required": False,
             "description": "`json` (default) or `compact` (binary, for phones).",
             "schema": {"type": "string", "enum": ["json", "compact"], "default": "json"}}])}

paths["/api/v1/admin/regimes"] = {
    "post": op("loadRegime", "Load a regime file", ["admin"],
               {"201": ok("Loaded; takes effect at its `effective_from` without a restart.", S("RegimeLoaded")),
                "422": problem("`invalid_regime`: the file has errors; `errors` lists each with its line and column.",
                               ["invalid_regime"], 422, {"errors": {"type": "array", "items": S("SourceError")}})},
               bearer("admin"), desc=role_note("admin") + " The body is a TOML regime file (see `propusk policy check`).",
               body={"required": True, "content": {"application/toml": {"schema": {"type": "string"}}}},
               body_json=False),
    "get": op("listRegimes", "All known regimes", ["admin"],
              {"200": ok("Built-in and loaded regimes.", S("RegimeList"))}, bearer("admin"), desc=role_note("admin")),
}

paths["/api/v1/admin/residents/{id}/revoke-passes"] = {
    "parameters": [{"name": "id", "in": "path", "required": True, "description": "Resident id.", "schema": UUID}],
    "post": op("revokeResidentPasses", "Revoke all of a resident's unexpired passes", ["admin"],
               {"200": ok("Done.", S("RevokeResult")),
                "404": {"description": "No such resident (`resident_not_found`).",
                        "content": {"application/problem+json": {"schema": S("Problem")}}}},
               bearer("admin"), desc=role_note("admin"),
               body=json_body(S("RevokeRequest"))),
}

def plain(desc, example=None):
    c = {"schema": {"type": "string"}}
    if example is not None: c["example"] = example
    return {"description": desc, "content": {"text/plain": c}}

paths["/healthz"] = {"get": op("healthz", "Liveness", ["operations"],
                               {"200": plain("The process is up.", "ok")}, PUBLIC, auth=False,
                               desc=role_note("public"))}
ready_503 = {"description": "Not ready (e.g. the database is unreachable), or `overloaded`.",
             "headers": RA,
             "content": {"text/plain": {"schema": {"type": "string"}},
                         "application/problem+json": {"schema": S("Problem")}}}
paths["/readyz"] = {"get": op("readyz", "Readiness", ["operations"],
                              {"200": plain("Ready to serve."), "503": ready_503}, PUBLIC, auth=False,
                              desc=role_note("public") + " Load balancers route traffic only to ready nodes.")}
paths["/metrics"] = {"get": op("metrics", "Prometheus metrics", ["operations"],
                               {"200": {"description": "Prometheus text exposition format.",
                                        "content": {"text/plain; version=0.0.4": {"schema": {"type": "string"}}}}},
                               PUBLIC, auth=False, desc=role_note("public"))}
paths["/api/v1/openapi.json"] = {"get": op("openapi", "This document", ["operations"],
                                           {"200": {"description": "OpenAPI 3.1.",
                                                    "content": {"application/json": {"schema": {"type": "object"}}}}},
                                           PUBLIC, auth=False, desc=role_note("public"))}

# --- SMS gateway (Kannel) endpoints: paste before `info_desc = ...` in tools/openapi/gen.py
def query(name, desc, required=False):
    return {"name": name, "in": "query", "required": required, "description": desc,
            "schema": {"type": "string"}}

sms_secret = query("secret", "The shared secret `sms.inbound_secret` (`PROPUSK_SMS_INBOUND_SECRET`).", True)
sms_taken = {"description": "Taken (a message id seen before is not handled again). The body is empty: "
                            "the answer to the phone goes out through the outbox.",
             "content": {"text/plain": {"schema": {"type": "string", "maxLength": 0}}}}
sms_off = problem("Inbound SMS is not configured (no `sms.inbound_secret`).", ["sms_disabled"], 404)
sms_retry = problem("Not taken now (the database is unavailable, or `overloaded`); the gateway retries.",
                    ["unavailable", "overloaded"], 503, {"retry_after_s": {"type": "integer"}}, RA)
inbound_params = [
    query("from", "Sender (Kannel `%p`), e.g. `+79161234567`.", True),
    query("to", "The short number it was sent to (`%P`)."),
    query("text", "The message (`%a`), percent-encoded bytes in `charset`.", True),
    query("id", "Kannel's id for the message (`%I`): a retry carries the same id and is handled once."),
    query("coding", "`%c`: 0 7-bit, 1 8-bit, 2 UCS-2."),
    query("charset", "`%C`, e.g. `UTF-8`, `UTF-16BE`, `windows-1251`."),
    sms_secret,
]
def sms_op(op_id, summary, desc, params):
    return op(op_id, summary, ["sms"], {"202": sms_taken, "403": R("Forbidden"), "404": sms_off,
                                        "503": sms_retry},
              PUBLIC, auth=False, desc=desc, params=params)
inbound_desc = ("**Caller:** the SMS gateway (Kannel `sms-service` with `get-url` or `post-url`). "
                "A POST may carry the parameters as a form, or the text as a `text/plain` body with "
                "`X-Kannel-From`. The message, what it causes (a pass, a cancellation, a registration) "
                "and the answer are committed together before 202.")
paths["/api/v1/sms/inbound"] = {
    "get": sms_op("smsInbound", "A message from a phone", inbound_desc, inbound_params),
    "post": sms_op("smsInboundPost", "A message from a phone (POST)", inbound_desc, inbound_params),
}
dlr_params = [
    query("id", "The outbox message (propusk puts it in the `dlr-url`).", True),
    query("type", "Kannel's report type `%d`: 1 delivered, 2 undelivered, 4 buffered, 8 accepted by the "
                  "SMSC, 16 rejected by the SMSC.", True),
    query("at", "When the report was made (`%T`)."),
    sms_secret,
]
dlr_desc = ("**Caller:** the SMS gateway, at the `dlr-url` propusk gave with each message. Unknown ids and "
            "types are acknowledged and ignored; a final report is never overwritten by a late one.")
paths["/api/v1/sms/dlr"] = {
    "get": sms_op("smsDeliveryReport", "A delivery report", dlr_desc, dlr_params),
    "post": sms_op("smsDeliveryReportPost", "A delivery report (POST)", dlr_desc, dlr_params),
}
# --- end of SMS endpoints

# --- quarantine monitoring
DEVICE = [{"deviceAuth": []}]
schemas["CaseRequest"] = obj({
    "phone": S("Phone"),
    "full_name": {"type": "string", "examples": ["Сидорова Анна Павловна"]},
    "home": S("Home"),
    "radius_m": {"type": "number", "minimum": 10, "maximum": 5000, "default": 100,
                 "description": "Home radius in metres; evaluation uses at least 100 m whatever is given "
                                "(indoor GPS noise)."},
    "starts_at": DT,
    "ends_at": {**DT, "description": "After `starts_at`, at most 60 days later. Monitoring stops here."},
    "time_zone": {"type": "string", "default": "Europe/Moscow",
                  "description": "IANA name; the patient's SMS show times on these clocks."},
    "lang": {"type": "string", "enum": ["ru", "en"], "default": "ru",
             "description": "The language of the patient's SMS."},
}, required=["phone", "full_name", "home", "starts_at", "ends_at"])
schemas["CaseCreated"] = obj({
    "id": UUID,
    "enrollment_code": {"type": "string", "pattern": "^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$",
                        "description": "Shown once: the patient's phone enrolls with it, once."},
    "enrollment_url": {"type": "string", "format": "uri",
                       "examples": ["https://propusk.example/patient/app/#code=ABCD-EFGH-JKLM"],
                       "description": "The link (and QR code) that opens the patient's app at "
                                      "`/patient/app/` with the code filled in. The code is in the URL "
                                      "*fragment*, which a browser never sends to a server: it reaches no "
                                      "server log and no Referer header."},
})
schemas["FlagKind"] = {"type": "string", "enum": ["left_home", "no_signal", "missed_checkin"],
                       "description": "What was seen. `no_signal` (silence) can never carry a sanction."}
schemas["FlagState"] = {"type": "string",
                        "enum": ["open", "notified", "dismissed", "confirmed_with_sanction", "appealed",
                                 "appeal_upheld", "appeal_rejected"],
                        "description": "`open`: the patient's SMS is queued; an officer may decide once it "
                                       "went out (`notified`)."}
schemas["Sanction"] = {"oneOf": [
    obj({"type": {"const": "warning"}}),
    obj({"type": {"const": "fine"}, "amount_rub": {"type": "integer", "minimum": 1}}),
], "description": "What an officer imposes when confirming a violation."}
schemas["FlagEvent"] = {"type": "object", "required": ["event", "at"],
                        "properties": {"event": {"type": "string", "enum": [
                            "raised", "notified", "dismissed", "confirmed", "appealed", "appeal_upheld",
                            "appeal_rejected"]}, "at": DT,
                            "officer": {"type": "string", "description": "Staff id of the deciding officer."}},
                        "description": "One step in a flag's life: who (the officer, where one acted) and when."}
schemas["Flag"] = obj({
    "id": UUID, "case_id": UUID, "kind": S("FlagKind"), "state": S("FlagState"),
    "from": {**DT, "description": "Start of what was seen (report time, not upload time)."},
    "to": DT,
    "ongoing": {"type": "boolean"},
    "evidence": {"type": "object", "description": "Map-free evidence tagged by `kind`: for `left_home` "
                 "counts of fixes by class, distances from home and accuracies (min/median/max), the last fix "
                 "at home before and first after, a thinned track of (time, distance, accuracy, class), and "
                 "`confirmed_by_checkin` (the check-in answer that placed the patient far from home during the "
                 "run, which makes it a departure at once; null otherwise); for `no_signal` the last report "
                 "before and first after the silence. Never coordinates."},
    "sanction": nullable(S("Sanction")),
    "awaits_officer": {"type": "boolean"},
    "history": {"type": "array", "items": S("FlagEvent"),
                "description": "Every step; on the patient's own flags without the officers' ids."},
    "checkins": {"type": "array", "items": S("Checkin"),
                 "description": "For `left_home`: the questions the service asked at once during the run "
                                "(immediate check-ins), answered or not. An unanswered one is never a flag "
                                "by itself and never a sanction."},
}, required=["id", "case_id", "kind", "state", "from", "to", "ongoing", "evidence", "sanction"])
schemas["Case"] = obj({
    "id": UUID,
    "status": {"type": "string", "enum": ["active", "ended", "closed"]},
    "phone": {"type": "string"}, "full_name": {"type": "string"},
    "home": nullable({**S("Home"), "description": "Null once the case's data is past retention."}),
    "radius_m": {"type": "number"}, "time_zone": {"type": "string"},
    "lang": {"type": "string", "enum": ["ru", "en"], "description": "The language of the patient's SMS."},
    "starts_at": DT, "ends_at": DT,
    "monitoring_since": nullable({**DT, "description": "When the first device enrolled."}),
    "created_by": {"type": "string"},
    "ended_at": nullable(DT), "closed_at": nullable(DT),
    "purged_at": nullable({**DT, "description": "When the case's personal data and location reports were "
                           "erased after retention (null until then)."}),
    "purged_fixes": {"type": "integer", "minimum": 0,
                     "description": "Location reports erased after retention."},
    "last_report_at": nullable({**DT, "description": "The newest location report's time (null before "
                                "the first, and after retention)."}),
    "reports_received": {"type": "integer", "minimum": 0,
                         "description": "Location reports received, those erased after retention included."},
    "app_last_seen_at": nullable({**DT, "description": "When an app of the case last called the API "
                                  "(noted at most every 30 s): an open app uploads a fix every minute."}),
    "flags": {"type": "array", "items": S("Flag")},
}, required=["id", "status", "flags"])
schemas["FlagList"] = obj({"flags": {"type": "array", "items": S("Flag")}})
schemas["Queue"] = obj({
    "flags": {"type": "array", "items": S("Flag")},
    "unanswered_checkins": {"type": "array", "items": {"allOf": [S("Checkin"), obj({"case_id": UUID})]},
                            "description": "Questions asked at once in the last 24 hours and left unanswered "
                                           "past their deadline, for active cases with no `left_home` flag over "
                                           "their run: shown to the officer, never a flag, nothing to decide."},
})
schemas["Decision"] = obj({
    "decision": {"type": "string", "enum": ["dismiss", "confirm"]},
    "sanction": S("Sanction"),
    "note": {"type": "string", "description": "Why; required to confirm."},
}, required=["decision"])
schemas["AppealDecision"] = obj({"upheld": {"type": "boolean", "description": "true lifts the sanction."},
                                 "note": {"type": "string", "description": "Why (required)."}})
schemas["Appeal"] = obj({"statement": {"type": "string", "maxLength": 2000,
                                       "description": "The patient's explanation (required, at most 2000 "
                                                      "characters)."}})
schemas["Fix"] = obj({"ts": {**DT, "description": "When the phone took the fix."},
                      "lat": {"type": "number", "minimum": -90, "maximum": 90},
                      "lon": {"type": "number", "minimum": -180, "maximum": 180},
                      "accuracy_m": {"type": "number", "minimum": 0,
                                     "description": "The phone's own error estimate (68 % radius)."}})
schemas["IngestResult"] = obj({
    "accepted": {"type": "integer", "minimum": 0, "description": "New reports stored."},
    "duplicates": {"type": "integer", "minimum": 0, "description": "Already stored (a retried batch)."},
    "ignored": {"type": "integer", "minimum": 0,
                "description": "Outside the monitored period (before enrollment, after the end)."},
    "open_challenges": {"type": "integer", "minimum": 0,
                        "description": "Check-ins open now: the app fetches and shows them at once (one may "
                                       "have been asked because of these reports)."},
})
case_id_param = {"name": "id", "in": "path", "required": True, "description": "Case id.", "schema": UUID}
flag_id_param = {"name": "id", "in": "path", "required": True, "description": "Flag id.", "schema": UUID}
CASE_NF = problem("`case_not_found`.", ["case_not_found"], 404)
FLAG_NF = problem("`flag_not_found`: no such flag (for a device: none of its case).", ["flag_not_found"], 404)
case_conflict = problem("`case_status_conflict`: the case is not in a state that allows this.",
                        ["case_status_conflict"], 409)
step_conflict = problem(
    "`patient_not_yet_notified`: the patient's SMS has not gone out yet; `not_sanctionable`: silence "
    "(`no_signal`) cannot be confirmed with a sanction; `flag_state_conflict`: the step does not follow "
    "from the flag's state.", ["patient_not_yet_notified", "not_sanctionable", "flag_state_conflict"], 409)
HEALTH = role_note("health")

paths["/api/v1/cases"] = {"post": op(
    "createCase", "Open a quarantine case", ["monitoring"],
    {"201": ok("Opened.", S("CaseCreated")),
     "422": problem("Invalid member (`field` names it).",
                    ["invalid_phone", "invalid_name", "invalid_field", "invalid_period"], 422)},
    bearer("health"), desc=HEALTH + " Recorded in the audit log.",
    body=json_body(S("CaseRequest"), example={
        "phone": "+79161234567", "full_name": "Сидорова Анна Павловна",
        "home": {"address": "Москва, ул. Тверская, 1, кв. 5", "lat": 55.7575, "lon": 37.613},
        "radius_m": 50, "starts_at": "2020-04-15T10:00:00+03:00", "ends_at": "2020-04-29T10:00:00+03:00"}))}
paths["/api/v1/cases/{id}"] = {"parameters": [case_id_param], "get": op(
    "getCase", "A case with its flags", ["monitoring"],
    {"200": ok("The case.", S("Case")), "404": CASE_NF},
    bearer("health"), desc=HEALTH + " Every read is in the audit log.")}
paths["/api/v1/cases/{id}/extend"] = {"parameters": [case_id_param], "post": op(
    "extendCase", "Move the end of monitoring later", ["monitoring"],
    {"200": ok("The case.", S("Case")), "404": CASE_NF, "409": case_conflict,
     "422": problem("`invalid_period`: not later than the current end, or over 60 days.", ["invalid_period",
                    "invalid_field"], 422)},
    bearer("health"), desc=HEALTH, body=json_body(obj({"ends_at": DT})))}
paths["/api/v1/cases/{id}/end"] = {"parameters": [case_id_param], "post": op(
    "endCase", "End monitoring now", ["monitoring"],
    {"200": ok("The case, `ended`.", S("Case")), "404": CASE_NF, "409": case_conflict},
    bearer("health"), desc=HEALTH + " Reports after this moment are ignored.")}
paths["/api/v1/cases/{id}/close"] = {"parameters": [case_id_param], "post": op(
    "closeCase", "Close a case", ["monitoring"],
    {"200": ok("The case, `closed`; its devices are revoked.", S("Case")), "404": CASE_NF, "409": case_conflict},
    bearer("health"), desc=HEALTH + " Flags and appeals may still be decided.")}
paths["/api/v1/flags/queue"] = {"get": op(
    "flagQueue", "Flags awaiting an officer", ["monitoring"],
    {"200": ok("Oldest first: flags awaiting a first decision or an appeal, and new ones whose SMS is "
               "still queued; and the questions left unanswered.", S("Queue"))},
    bearer("health"), desc=HEALTH + " Audited.")}
paths["/api/v1/flags/{id}"] = {"parameters": [flag_id_param], "get": op(
    "getFlag", "One flag with its evidence and history", ["monitoring"],
    {"200": ok("The flag.", S("Flag")), "404": FLAG_NF}, bearer("health"), desc=HEALTH + " Audited.")}
paths["/api/v1/flags/{id}/decision"] = {"parameters": [flag_id_param], "post": op(
    "decideFlag", "Dismiss a flag, or confirm it with a sanction", ["monitoring"],
    {"200": ok("Decided; the patient is told by SMS.", S("Flag")), "404": FLAG_NF, "409": step_conflict,
     "422": problem("`reason_required`: a confirmation needs a note; `invalid_field`: a sanction is "
                    "missing (confirm) or given (dismiss).", ["reason_required", "invalid_field"], 422)},
    bearer("health"), desc=HEALTH + " The only way a sanction comes to exist. Audited.",
    body=json_body(S("Decision"), example={"decision": "confirm", "sanction": {"type": "fine", "amount_rub": 4000},
                                           "note": "40 минут в 600 м от дома, объяснений нет"}))}
paths["/api/v1/flags/{id}/appeal-decision"] = {"parameters": [flag_id_param], "post": op(
    "decideAppeal", "Decide a patient's appeal", ["monitoring"],
    {"200": ok("Decided; the patient is told by SMS.", S("Flag")), "404": FLAG_NF, "409": step_conflict,
     "403": problem("`appeal_needs_another_officer`: the officer who confirmed the sanction may not decide "
                    "its appeal; or `forbidden`.", ["appeal_needs_another_officer", "forbidden"], 403),
     "422": problem("`reason_required`.", ["reason_required"], 422)},
    bearer("health"), desc=HEALTH + ", not the officer who confirmed. Audited.",
    body=json_body(S("AppealDecision")))}
RETIRED = problem("`device_retired`: the device no longer takes part in monitoring — its case was ended "
                  "or closed or is past its end, or the loaner phone was returned, wiped or lost. The app "
                  "erases everything it holds (its database, caches and service worker).", ["device_retired"], 410)
DEVICE_ERRORS = {"401": R("Unauthorized"), "410": RETIRED}
schemas["Hours"] = obj({"from": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "examples": ["09:00"]},
                        "to": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$", "examples": ["21:00"]}},
                       desc="Local hours on the case's clocks; never outside 07:00–22:00.")
paths["/api/v1/device/terms"] = {"get": op(
    "deviceTerms", "What the consent screen tells a patient", ["monitoring"],
    {"200": ok("The service's monitoring settings a patient agrees to.", obj({
        "retention_days": {"type": "integer", "minimum": 1, "maximum": 365,
                           "description": "Raw locations and photos are erased this long after the case closes."},
        "checkin_hours": S("Hours"),
        "checkins_per_day": {"type": "integer", "minimum": 0, "maximum": 6},
        "checkin_deadline_mins": {"type": "integer", "minimum": 5, "maximum": 60},
        "report_every_secs": {"type": "integer", "minimum": 30, "maximum": 600},
    }))},
    PUBLIC, auth=False, desc=role_note("public") + " Read before enrollment, so that nothing is collected "
    "before the patient agrees.")}
paths["/api/v1/device/config"] = {"get": op(
    "deviceConfig", "What the app is told about its case", ["monitoring"],
    {"200": ok("The app's settings and its case's dates.", obj({
        "report_every_secs": {"type": "integer", "minimum": 30, "maximum": 600,
                              "description": "Keep a location fix this often while the app is open."},
        "checkin_hours": S("Hours"),
        "case_ends_at": DT,
        "loaner_due_at": {**DT, "description": "Only on a lent phone: when it is due back."},
        "lang": {"type": "string", "enum": ["ru", "en"], "description": "The case's language."},
        "time_zone": {"type": "string", "description": "The case's clocks (IANA name)."},
        "kind": {"type": "string", "enum": ["own", "loaner"]},
        "server_time": {**DT, "description": "The service's clock: the app stamps reports with the "
                                              "phone's clock corrected to it."},
    }, required=["report_every_secs", "checkin_hours", "case_ends_at", "lang", "time_zone", "kind",
                 "server_time"])), **DEVICE_ERRORS},
    DEVICE, auth=False, desc=role_note("an enrolled device") + " The call notes the app as seen (the "
    "officer sees whether it is open).")}
paths["/api/v1/device/enroll"] = {"post": op(
    "enrollDevice", "Enroll a phone with its one-time code", ["monitoring"],
    {"201": ok("Enrolled; keep the token on the device (never in a URL).",
               obj({"device_token": {"type": "string"}, "case_id": UUID,
                    "kind": {"type": "string", "enum": ["own", "loaner"]}})),
     "404": problem("`enrollment_code_not_found`: wrong, used, or the case is over.",
                    ["enrollment_code_not_found"], 404),
     "422": problem("`invalid_field`: far longer than a code; `invalid_photo`.", ["invalid_field",
                    "invalid_photo"], 422)},
    PUBLIC, auth=False, desc=role_note("public, with the code") + " The case's enrollment code (the "
    "patient's own phone) or a lent phone's loaner key (`kind: loaner`). Any case and separators are accepted.",
    body=json_body(obj({"enrollment_code": {"type": "string"},
                        "reference_photo": {"type": "string", "contentEncoding": "base64",
                                            "description": "Optional photo taken in the app (JPEG or PNG, "
                                                           "at most 1 MB), for officers to compare check-ins with."}},
                       required=["enrollment_code"])))}
paths["/api/v1/device/locations"] = {"post": op(
    "uploadLocations", "Upload a batch of location reports", ["monitoring"],
    {"202": ok("Stored and evaluated.", S("IngestResult")),
     **DEVICE_ERRORS,
     "422": problem("The batch is refused as a whole; `index` names the report at fault: `fix_in_future` "
                    "(more than 5 minutes ahead: a wrong clock), `fix_too_old` (over 48 hours late), "
                    "`invalid_fix` (coordinates or accuracy), `invalid_field` (time), `invalid_batch` "
                    "(empty or over 5000).", ["fix_in_future", "fix_too_old", "invalid_fix", "invalid_field",
                                              "invalid_batch"], 422, {"index": {"type": "integer"}})},
    DEVICE, auth=False,
    desc=role_note("an enrolled device") + " Idempotent: a report is keyed by device and time (whole "
         "seconds), so a retried batch is not counted twice. Evaluation uses report times. In check-in "
         "hours, a fresh confident fix that first places the phone far from home makes the service ask the "
         "patient at once (an immediate check-in, announced by SMS; never a flag by itself).",
    body=json_body({"type": "array", "items": S("Fix")}))}
paths["/api/v1/device/flags"] = {"get": op(
    "deviceFlags", "The patient's own flags", ["monitoring"],
    {"200": ok("With the officers' notes, without their ids.", S("FlagList")), **DEVICE_ERRORS},
    DEVICE, auth=False, desc=role_note("an enrolled device"))}
paths["/api/v1/device/flags/{id}/appeal"] = {"parameters": [flag_id_param], "post": op(
    "appealFlag", "Appeal a confirmed sanction", ["monitoring"],
    {"200": ok("Appealed; a different officer decides.", S("Flag")), **DEVICE_ERRORS,
     "404": FLAG_NF, "409": step_conflict,
     "422": problem("`reason_required`; `invalid_field` (`field`: `statement`): over 2000 characters.",
                    ["reason_required", "invalid_field"], 422)},
    DEVICE, auth=False, desc=role_note("an enrolled device, for its own case"), body=json_body(S("Appeal")))}
CHALLENGE_NF = problem("`challenge_not_found`: no such check-in for this device, or not shown yet.",
                       ["challenge_not_found"], 404)
PHOTO_NF = problem("`photo_not_found`: none was taken, or it was erased after retention.", ["photo_not_found"], 404)
INVALID_PHOTO = problem("`invalid_photo`: not a base64 JPEG or PNG of at most 1 MB; `invalid_fix`: the location.",
                        ["invalid_photo", "invalid_fix"], 422)
schemas["AskedFor"] = obj({
    "ts": {**DT, "description": "When the phone took the fix that raised the question."},
    "distance_m": {"type": "integer", "minimum": 0, "description": "How far from home it was."},
    "accuracy_m": {"type": "number", "minimum": 0, "description": "Its reported accuracy."},
}, desc="For an immediate check-in: the fix that raised it, map-free.")
schemas["CheckinKind"] = {"type": "string", "enum": ["scheduled", "immediate"],
                          "description": "`scheduled`: drawn at random in the day's hours; `immediate`: asked at "
                                         "once when a confident fix first placed the phone far from home (never "
                                         "a flag by itself; an answer from home ends the suspicion, one from "
                                         "far away confirms the departure)."}
schemas["OpenChallenge"] = obj({"id": UUID, "kind": S("CheckinKind"), "issued_at": DT,
                                "deadline": {**DT, "description": "Answer before this (20 minutes by default)."},
                                "asked_for": nullable(S("AskedFor"))})
schemas["CheckinAnswer"] = obj({"photo": {"type": "string", "contentEncoding": "base64",
                                          "description": "Taken in the app: JPEG or PNG, at most 1 MB."},
                                "lat": {"type": "number", "minimum": -90, "maximum": 90},
                                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                                "accuracy_m": {"type": "number", "minimum": 0},
                                "taken_at": {**DT, "description": "When the photo and the fix were taken; now if "
                                             "absent. An answer taken offline is sent later with it: it is on time "
                                             "when this is before the deadline."}},
                               required=["photo", "lat", "lon", "accuracy_m"])
schemas["Checkin"] = obj({
    "id": UUID, "kind": S("CheckinKind"), "asked_for": nullable(S("AskedFor")),
    "issued_at": DT, "deadline": DT,
    "answered_at": nullable({**DT, "description": "When the answer was taken."}),
    "received_at": nullable({**DT, "description": "When the answer arrived (later when taken offline)."}),
    "late": nullable({"type": "boolean"}), "has_photo": {"type": "boolean"},
    "distance_m": nullable({"type": "integer", "minimum": 0,
                            "description": "Distance from home of the answer's location (map-free)."}),
    "accuracy_m": nullable({"type": "number"}),
    "flag_id": nullable({**UUID, "description": "The `missed_checkin` flag raised for it (never for an "
                         "immediate check-in)."}),
    "face_match": obj({
        "result": {"type": "string", "enum": ["not_assessed", "similar", "different"]},
        "score": {"type": "number", "minimum": 0, "maximum": 1,
                  "description": "The matcher's confidence (absent when not assessed)."},
        "by": {"type": "string", "description": "`officer` when no automatic matcher is "
               "configured (none is by default): the officer compares the photos side by side."},
    }, required=["result", "by"], desc="An automatic face matcher's opinion, advisory only; "
       "present when the check-in has a photo."),
}, required=["id", "kind", "asked_for", "issued_at", "deadline", "answered_at", "received_at", "late",
             "has_photo", "distance_m", "accuracy_m", "flag_id"])
PHOTO = {"200": {"description": "The photo.", "content": {"image/jpeg": {}, "image/png": {}}}}
paths["/api/v1/device/challenges"] = {"get": op(
    "openChallenges", "Check-ins to answer now", ["monitoring"],
    {"200": ok("Shown and not yet answered or past their deadline; the schedule ahead is never shown.",
               obj({"challenges": {"type": "array", "items": S("OpenChallenge")}})), **DEVICE_ERRORS},
    DEVICE, auth=False,
    desc=role_note("an enrolled device") + " Challenges come only within daytime hours (09:00–21:00 on the "
         "case's clocks by default, never at night), at most three a day.")}
paths["/api/v1/device/challenges/{id}"] = {"parameters": [{**flag_id_param, "description": "Check-in id."}],
                                           "post": op(
    "answerChallenge", "Answer a check-in with a photo and the location", ["monitoring"],
    {"200": ok("Recorded; `late` when taken after the deadline.",
               obj({"id": UUID, "answered_at": {**DT, "description": "When it was taken."},
                    "late": {"type": "boolean"}})),
     **DEVICE_ERRORS, "404": CHALLENGE_NF,
     "409": problem("`already_answered`: the first answer stands.", ["already_answered"], 409),
     "422": problem("`invalid_photo`; `invalid_fix`: the location; `answer_in_future`: `taken_at` more than "
                    "5 minutes ahead (a wrong clock); `answer_before_checkin`: taken before the check-in was "
                    "shown; `invalid_field`: `taken_at` is not RFC 3339.",
                    ["invalid_photo", "invalid_fix", "answer_in_future", "answer_before_checkin",
                     "invalid_field"], 422)},
    DEVICE, auth=False, desc=role_note("an enrolled device") + " An unanswered scheduled check-in becomes "
         "a `missed_checkin` flag for an officer, never a fine; an unanswered immediate one is never a flag. "
         "The answer's location is evidence like a report: far from home it confirms a departure at once.",
    body=json_body(S("CheckinAnswer")))}
paths["/api/v1/cases/{id}/checkins"] = {"parameters": [case_id_param], "get": op(
    "caseCheckins", "A case's check-ins so far", ["monitoring"],
    {"200": ok("Oldest first.", obj({"checkins": {"type": "array", "items": S("Checkin")}})), "404": CASE_NF},
    bearer("health"), desc=HEALTH + " Audited.")}
paths["/api/v1/cases/{id}/reference-photo"] = {"parameters": [case_id_param], "get": op(
    "referencePhoto", "The photo taken at enrollment", ["monitoring"], {**PHOTO, "404": PHOTO_NF},
    bearer("health"), desc=HEALTH + " Compare side by side with check-in photos (no automatic matching). Audited.")}
paths["/api/v1/checkins/{id}/photo"] = {"parameters": [{**flag_id_param, "description": "Check-in id."}],
                                        "get": op(
    "checkinPhoto", "A check-in's photo", ["monitoring"], {**PHOTO, "404": PHOTO_NF},
    bearer("health"), desc=HEALTH + " Audited.")}
schemas["Loaner"] = obj({
    "serial": {"type": "string"},
    "state": {"type": "string", "enum": ["in_stock", "on_loan", "returned", "wiped", "lost"]},
    "case_id": nullable(UUID),
    "lent_at": nullable(DT), "due_at": nullable({**DT, "description": "The case's end when lent."}),
    "returned_at": nullable(DT), "wiped_at": nullable(DT),
    "checklist": nullable({"type": "object", "additionalProperties": {"type": "boolean"},
                           "description": "The last return or wipe checklist."}),
})
schemas["LoanerList"] = obj({"loaners": {"type": "array", "items": S("Loaner")}})
serial_param = {"name": "serial", "in": "path", "required": True, "description": "Serial number.",
                "schema": {"type": "string"}}
LOANER_NF = problem("`loaner_not_found`.", ["loaner_not_found"], 404)
loaner_conflict = problem("`loaner_state_conflict`: not in a state that allows this (`state` says which).",
                          ["loaner_state_conflict"], 409, {"state": {"type": "string"}})
checklist_body = json_body(obj({"checklist": {"type": "object", "additionalProperties": {"type": "boolean"}}}))
paths["/api/v1/loaners"] = {
    "post": op("addLoaner", "Add a loaner phone to the inventory", ["monitoring"],
               {"201": ok("In stock.", S("Loaner")),
                "409": problem("`loaner_exists`.", ["loaner_exists"], 409),
                "422": problem("`invalid_field`: the serial.", ["invalid_field"], 422)},
               bearer("health"), desc=HEALTH + " Audited.", body=json_body(obj({"serial": {"type": "string"}}))),
    "get": op("listLoaners", "The loaner inventory", ["monitoring"],
              {"200": ok("By serial.", S("LoanerList")),
               "400": problem("`invalid_state`: not one of the states; `bad_request`: the query is malformed.",
                              ["invalid_state", "bad_request"], 400)},
              bearer("health"), desc=HEALTH,
              params=[{"name": "state", "in": "query", "required": False, "description": "Only this state.",
                       "schema": {"type": "string", "enum": ["in_stock", "on_loan", "returned", "wiped", "lost"]}}]),
}
paths["/api/v1/loaners/overdue"] = {"get": op(
    "overdueLoaners", "Phones on loan past their due date", ["monitoring"],
    {"200": ok("Longest overdue first.", S("LoanerList"))}, bearer("health"), desc=HEALTH)}
paths["/api/v1/loaners/{serial}/lend"] = {"parameters": [serial_param], "post": op(
    "lendLoaner", "Lend a phone (in stock or wiped) to a case", ["monitoring"],
    {"200": ok("On loan, with the one-time key the phone enrolls with (shown once; `POST "
               "/api/v1/device/enroll`): the device token it then gets is the only thing it holds about the "
               "patient.",
               {"allOf": [S("Loaner"), obj({
                   "loaner_key": {"type": "string", "pattern": "^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$"},
                   "enrollment_url": {"type": "string", "format": "uri", "description": "The app's link with "
                                      "the key in the URL fragment (and the QR code on the officer's page)."}})]}),
     "404": LOANER_NF,
     "409": problem("`loaner_state_conflict`, or `case_status_conflict`: the case is unknown or over.",
                    ["loaner_state_conflict", "case_status_conflict"], 409)},
    bearer("health"), desc=HEALTH + " Due at the case's end. Audited.", body=json_body(obj({"case_id": UUID})))}
paths["/api/v1/loaners/{serial}/return"] = {"parameters": [serial_param], "post": op(
    "returnLoaner", "Record a phone's return with its checklist", ["monitoring"],
    {"200": ok("Returned; its device token is refused as `device_retired` (the app erases itself) and an "
               "unused key dies.", S("Loaner")), "404": LOANER_NF,
     "409": loaner_conflict},
    bearer("health"), desc=HEALTH + " Audited.", body=checklist_body)}
paths["/api/v1/loaners/{serial}/wipe"] = {"parameters": [serial_param], "post": op(
    "wipeLoaner", "Record a returned phone's wipe", ["monitoring"],
    {"200": ok("Wiped; may be lent again.", S("Loaner")), "404": LOANER_NF, "409": loaner_conflict,
     "422": problem("`wipe_incomplete`: `factory_reset`, `token_removed` and `accounts_removed` must all be "
                    "true; `missing` lists the rest.", ["wipe_incomplete"], 422,
                    {"missing": {"type": "array", "items": {"type": "string"}}})},
    bearer("health"), desc=HEALTH + " Audited.", body=checklist_body)}
paths["/api/v1/loaners/{serial}/lost"] = {"parameters": [serial_param], "post": op(
    "loseLoaner", "Record a phone as lost", ["monitoring"],
    {"200": ok("Lost; its device token no longer works.", S("Loaner")), "404": LOANER_NF,
     "409": loaner_conflict},
    bearer("health"), desc=HEALTH + " Audited.")}
# --- end of monitoring endpoints

info_desc = """\
JSON API of propusk, a city-scale system of digital passes for an epidemic lockdown.

**Passes.** A resident signs in with a one-time SMS code, states their profile, and asks for a pass for \
a purpose the regime in force allows. Each pass has a signed token (the QR text) and a short code \
(`XXX-XXX-XXX`, for SMS users and typing; checked online only).

**The pass token** is `PR1:` + base45(zlib(COSE_Sign1)) over CWT claims — issuer, validity window, pass id, \
purpose, regime and a holder hint (initials and the last 4 characters of the document; never the full name \
or document number). It is signed with Ed25519 or ES256, so it can be checked **offline** with the keys \
from `/.well-known/propusk/keys` and the delta-synced list from `/api/v1/revocations`. The normative \
format is in `docs/token-format.md` in the repository.

**Errors** are `application/problem+json` (RFC 9457): branch on `code`, show `detail` (Russian by default, \
English with `Accept-Language: en`). Any endpoint may answer `503 overloaded` with `Retry-After` when the \
server is past capacity.

**Auth:** `Authorization: Bearer <token>` from `/api/v1/auth/otp/verify` (residents) or \
`/api/v1/auth/login` (staff). The scopes listed in each operation's security requirement are the roles \
allowed. Times are RFC 3339; ids are UUIDs."""

doc = {
    "openapi": "3.1.0",
    "info": {"title": "propusk API", "version": "1.0.0", "description": info_desc,
             "license": {"name": "See the repository", "identifier": "NOASSERTION"} if False else None},
    "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
    "servers": [{"url": "/", "description": "This server."}],
    "tags": [
        {"name": "auth", "description": "Sign-in: residents by SMS code, staff by password."},
        {"name": "residents", "description": "The resident's own profile."},
        {"name": "regimes", "description": "The rules in force."},
        {"name": "passes", "description": "Issuance, listing, QR codes, cancellation."},
        {"name": "verification", "description": "Checking passes online, and what offline verifiers need."},
        {"name": "admin", "description": "Regime files and revocation."},
        {"name": "operations", "description": "Health, readiness, metrics."},
        {"name": "sms", "description": "The SMS gateway's callbacks: inbound messages and delivery reports."},
        {"name": "monitoring", "description": "Quarantine monitoring: cases, devices, location reports, "
                                              "flags, decisions and appeals."},
    ],
    "paths": paths,
    "components": {
        "schemas": schemas,
        "responses": responses,
        "headers": headers,
        "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "Opaque token from `/api/v1/auth/otp/verify` or `/api/v1/auth/login`. "
                           "Requirement scopes name the roles allowed: resident, inspector, health, admin."},
            "deviceAuth": {
                "type": "http", "scheme": "bearer",
                "description": "A quarantine device's token from `/api/v1/device/enroll`."}},
    },
}
# Path and query parameters are text too: a control character in one is refused like one in a body.
for item in doc["paths"].values():
    shared = item.get("parameters", [])
    for method, o in item.items():
        if method == "parameters":
            continue
        if any(p["in"] in ("path", "query") for p in shared + o.get("parameters", [])):
            rs = o["responses"]
            rs["422"] = with_code(rs.get("422"), "control_character")
            o["responses"] = dict(sorted(rs.items(), key=lambda kv: kv[0]))
del doc["info"]["license"]
import sys
with open(sys.argv[1], "w") as f:
    json.dump(doc, f, ensure_ascii=False, indent=2)
    f.write("\n")
