-- The SMS channel: what each sent message cost and what became of it, and every message
-- received, so that a gateway's retry of the same message is answered once.

-- How the text went on the air (gsm7/ucs2) and how many segments it took; which gateway took
-- it; the last delivery report (submitted, buffered, delivered, undelivered, rejected).
ALTER TABLE sms_outbox ADD COLUMN coding TEXT;
ALTER TABLE sms_outbox ADD COLUMN segments INTEGER;
ALTER TABLE sms_outbox ADD COLUMN gateway TEXT;
ALTER TABLE sms_outbox ADD COLUMN delivery TEXT;
ALTER TABLE sms_outbox ADD COLUMN delivery_at INTEGER;
CREATE INDEX sms_outbox_phone ON sms_outbox (phone, created_at);

CREATE TABLE sms_inbound (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The gateway's id for the message (Kannel's %I): a retry carries the same one.
    gateway_id   TEXT NOT NULL UNIQUE,
    phone        TEXT NOT NULL,
    recipient    TEXT NOT NULL DEFAULT '',
    text         TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    -- What the message asked (pass, cancel, status, help, register, unknown …) and what came
    -- of it (issued, refused:quota_exceeded, rate_limited …).
    command      TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    resident_id  TEXT,
    pass_id      TEXT,
    -- The outbox key of the answer (NULL when none could be sent).
    reply_key    TEXT
);
CREATE INDEX sms_inbound_phone ON sms_inbound (phone, received_at);
