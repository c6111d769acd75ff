-- Times are Unix seconds; ids are UUID text.
CREATE TABLE residents (
    id            TEXT PRIMARY KEY,
    phone         TEXT NOT NULL UNIQUE,
    full_name     TEXT,
    doc_kind      TEXT,
    doc_number    TEXT,
    home_address  TEXT,
    home_lat      DOUBLE PRECISION,
    home_lon      DOUBLE PRECISION,
    lang          TEXT NOT NULL DEFAULT 'ru',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE staff (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE otp_codes (
    id          BIGSERIAL PRIMARY KEY,
    phone       TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    used_at     BIGINT
);
CREATE INDEX otp_codes_phone ON otp_codes (phone, created_at);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    subject_id  TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE passes (
    id           TEXT PRIMARY KEY,
    resident_id  TEXT NOT NULL REFERENCES residents (id),
    regime_id    TEXT NOT NULL,
    purpose      TEXT NOT NULL,
    short_code   TEXT NOT NULL UNIQUE,
    token        TEXT NOT NULL,
    valid_from   BIGINT NOT NULL,
    valid_until  BIGINT NOT NULL,
    issued_at    BIGINT NOT NULL,
    channel      TEXT NOT NULL,
    fields       TEXT NOT NULL DEFAULT '{}',
    cancelled_at BIGINT,
    cancelled_by TEXT
);
CREATE INDEX passes_resident ON passes (resident_id, valid_from);

CREATE TABLE revocations (
    seq         BIGINT PRIMARY KEY,
    pass_id     TEXT NOT NULL UNIQUE REFERENCES passes (id),
    revoked_at  BIGINT NOT NULL,
    reason      TEXT NOT NULL
);

CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('revocation', 0), ('audit', 0);

CREATE TABLE sms_outbox (
    id               BIGSERIAL PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    phone            TEXT NOT NULL,
    body             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT,
    last_error       TEXT
);
CREATE INDEX sms_outbox_due ON sms_outbox (status, next_attempt_at);

CREATE TABLE regimes (
    id         TEXT PRIMARY KEY,
    source     TEXT NOT NULL,
    loaded_at  BIGINT NOT NULL,
    loaded_by  TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq        BIGINT PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
