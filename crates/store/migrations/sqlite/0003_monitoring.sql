-- Quarantine monitoring: cases, the devices enrolled to them, their location reports, the
-- flags the evaluator raised, each flag's event log (who did what, when) and appeals.
-- Coordinates live only in monitoring_cases (home) and location_fixes; flags and their
-- evidence are map-free.

CREATE TABLE monitoring_cases (
    id                    TEXT PRIMARY KEY,
    phone                 TEXT NOT NULL,
    full_name             TEXT NOT NULL,
    -- The home: address and coordinates are erased (NULL) when the case's data is purged.
    home_address          TEXT,
    home_lat              REAL,
    home_lon              REAL,
    radius_m              REAL NOT NULL,
    time_zone             TEXT NOT NULL,
    starts_at             INTEGER NOT NULL,
    ends_at               INTEGER NOT NULL,
    -- active, ended (monitoring stopped early), closed (no further changes)
    status                TEXT NOT NULL,
    -- SHA-256 of the one-time enrollment code; NULL once used.
    enrollment_code_hash  TEXT UNIQUE,
    -- Seeds the check-in schedule; never shown.
    case_seed             TEXT NOT NULL,
    created_by            TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    -- When the first device enrolled: silence is counted from here, not from starts_at.
    monitoring_since      INTEGER,
    ended_at              INTEGER,
    closed_at             INTEGER,
    -- Retention: when the raw locations and the home were erased, and how many reports there
    -- were (only counts remain).
    purged_at             INTEGER,
    purged_fixes          INTEGER
);
CREATE INDEX monitoring_cases_status ON monitoring_cases (status, ends_at);

CREATE TABLE monitoring_devices (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES monitoring_cases (id),
    token_hash   TEXT NOT NULL UNIQUE,
    -- own | loaner
    kind         TEXT NOT NULL,
    enrolled_at  INTEGER NOT NULL,
    revoked_at   INTEGER,
    -- The photo taken at enrollment, for officers to compare check-in photos with; erased
    -- with the case's data after retention.
    reference_photo  BLOB
);
CREATE INDEX monitoring_devices_case ON monitoring_devices (case_id);

-- One row per report; a retried batch hits the primary key and is not counted twice.
CREATE TABLE location_fixes (
    device_id    TEXT NOT NULL REFERENCES monitoring_devices (id),
    ts           INTEGER NOT NULL,
    case_id      TEXT NOT NULL REFERENCES monitoring_cases (id),
    lat          REAL NOT NULL,
    lon          REAL NOT NULL,
    accuracy_m   REAL NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (device_id, ts)
);
CREATE INDEX location_fixes_case ON location_fixes (case_id, ts);

CREATE TABLE monitoring_flags (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES monitoring_cases (id),
    -- left_home | no_signal | missed_checkin
    kind        TEXT NOT NULL,
    from_ts     INTEGER NOT NULL,
    to_ts       INTEGER NOT NULL,
    ongoing     INTEGER NOT NULL,
    -- The core's Evidence as JSON: distances, accuracies, times; never coordinates.
    evidence    TEXT NOT NULL,
    -- The FlagCase state (open, notified, dismissed, confirmed_with_sanction, appealed,
    -- appeal_upheld, appeal_rejected), kept in step with the event log.
    state       TEXT NOT NULL,
    raised_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX monitoring_flags_case ON monitoring_flags (case_id, from_ts);
CREATE INDEX monitoring_flags_state ON monitoring_flags (state);

-- The FlagCase event log: the state is its fold, replayed and re-checked on every step.
CREATE TABLE monitoring_flag_events (
    flag_id  TEXT NOT NULL REFERENCES monitoring_flags (id),
    seq      INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    -- system | patient | officer:<staff id>
    actor    TEXT NOT NULL,
    -- The core's Event as JSON.
    event    TEXT NOT NULL,
    PRIMARY KEY (flag_id, seq)
);

CREATE TABLE monitoring_appeals (
    flag_id      TEXT PRIMARY KEY REFERENCES monitoring_flags (id),
    statement    TEXT NOT NULL,
    appealed_at  INTEGER NOT NULL,
    decided_by   TEXT,
    decided_at   INTEGER,
    upheld       INTEGER
);

-- Check-in days already scheduled: a day's challenges are drawn once, when it is first seen,
-- so extending a case or a late sweep never adds challenges to a day.
CREATE TABLE monitoring_checkin_days (
    case_id  TEXT NOT NULL REFERENCES monitoring_cases (id),
    day      TEXT NOT NULL,
    PRIMARY KEY (case_id, day)
);

-- Check-in challenges: shown from issued_at, answered (photo + location) before deadline.
CREATE TABLE monitoring_challenges (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES monitoring_cases (id),
    issued_at    INTEGER NOT NULL,
    deadline     INTEGER NOT NULL,
    answered_at  INTEGER,
    device_id    TEXT,
    -- The answer; photo and location are erased with the case's data after retention.
    photo        BLOB,
    lat          REAL,
    lon          REAL,
    accuracy_m   REAL,
    -- Judged once its deadline has passed; the missed_checkin flag raised for it, if any.
    judged       INTEGER NOT NULL DEFAULT 0,
    flag_id      TEXT,
    UNIQUE (case_id, issued_at)
);
CREATE INDEX monitoring_challenges_due ON monitoring_challenges (judged, deadline);

-- Loaner phones: an inventory for patients without a phone of their own. A loaner holds no
-- personal data: when lent it gets a device token for the case, nothing else.
CREATE TABLE monitoring_loaners (
    serial       TEXT PRIMARY KEY,
    -- in_stock | on_loan | returned | wiped | lost
    state        TEXT NOT NULL,
    case_id      TEXT REFERENCES monitoring_cases (id),
    device_id    TEXT REFERENCES monitoring_devices (id),
    lent_at      INTEGER,
    -- The case's end when lent.
    due_at       INTEGER,
    returned_at  INTEGER,
    wiped_at     INTEGER,
    -- The last return or wipe checklist, as JSON.
    checklist    TEXT,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX monitoring_loaners_state ON monitoring_loaners (state, due_at);
