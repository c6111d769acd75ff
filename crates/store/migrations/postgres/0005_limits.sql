-- Rate limits and failure backoffs (crates/store/src/throttle.rs). Buckets are named by a
-- hash of the limit and its key, so no phone number or address is kept here in clear.
CREATE TABLE throttles (
    bucket      TEXT PRIMARY KEY,
    tat_ms      BIGINT NOT NULL,   -- GCRA's theoretical arrival time, Unix milliseconds
    tripped_at  BIGINT             -- set when the limit started refusing (audited once)
);
CREATE INDEX throttles_tat ON throttles (tat_ms);

CREATE TABLE login_guards (
    bucket           TEXT PRIMARY KEY,
    failures         BIGINT NOT NULL,
    last_failure_at  BIGINT NOT NULL,  -- Unix milliseconds
    blocked_until    BIGINT NOT NULL   -- Unix milliseconds
);

-- Periodic jobs run once per period across every node on this database: a node runs a
-- period only if it moved the job's period forward (crates/store/src/jobs.rs).
CREATE TABLE job_runs (
    name        TEXT PRIMARY KEY,
    period      BIGINT NOT NULL,
    node        TEXT NOT NULL,
    started_at  BIGINT NOT NULL
);

-- When the patient of an overdue loaner phone was last reminded to return it.
ALTER TABLE monitoring_loaners ADD COLUMN reminded_at BIGINT;
