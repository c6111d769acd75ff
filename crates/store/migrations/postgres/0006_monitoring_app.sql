-- The Social Monitoring app (issue 11): when each phone's app last talked to the service,
-- check-ins asked at once when in doubt (besides the daily schedule), answers taken offline
-- and sent later, the SMS that announces each check-in, and one-time keys for loaner phones.

-- When the device's app last called the API (the officer sees whether it is open).
ALTER TABLE monitoring_devices ADD COLUMN last_seen_at BIGINT;

-- scheduled | immediate (asked when a confident fix first placed the phone far from home;
-- never a flag by itself).
ALTER TABLE monitoring_challenges ADD COLUMN kind TEXT NOT NULL DEFAULT 'scheduled';
-- For an immediate check-in, the fix that raised it: when, and how far from home and how sure
-- (map-free, kept like a flag's evidence).
ALTER TABLE monitoring_challenges ADD COLUMN asked_for_ts BIGINT;
ALTER TABLE monitoring_challenges ADD COLUMN asked_distance_m DOUBLE PRECISION;
ALTER TABLE monitoring_challenges ADD COLUMN asked_accuracy_m DOUBLE PRECISION;
-- When the answer reached the service (answered_at is when it was taken: an answer taken
-- offline is sent later).
ALTER TABLE monitoring_challenges ADD COLUMN received_at BIGINT;
-- When the patient's SMS announcing it was queued; those shown before this column existed
-- were never announced, and are not now.
ALTER TABLE monitoring_challenges ADD COLUMN announced_at BIGINT;
UPDATE monitoring_challenges SET announced_at = issued_at;

-- SHA-256 of the one-time key a lent phone enrolls with; NULL once used or when not on loan.
ALTER TABLE monitoring_loaners ADD COLUMN key_hash TEXT;
CREATE UNIQUE INDEX monitoring_loaners_key ON monitoring_loaners (key_hash);
