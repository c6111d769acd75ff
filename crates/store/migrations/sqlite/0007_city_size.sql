-- City size (issue 14): the revocation list carries each pass's end, so the published list
-- (revocations of passes not yet expired) is one range of the primary key with no join;
-- location reports are found by day for retention (SQLite has no partitions: it deletes them
-- in small batches); and a case counts its reports as they arrive, since whole days of them
-- may be gone before the case is purged.

ALTER TABLE revocations ADD COLUMN valid_until INTEGER NOT NULL DEFAULT 0;
UPDATE revocations SET valid_until = (SELECT valid_until FROM passes WHERE passes.id = revocations.pass_id);
-- Revocations of passes long ended are forgotten (they are never listed again).
CREATE INDEX revocations_valid_until ON revocations (valid_until);

ALTER TABLE monitoring_cases ADD COLUMN fixes_stored INTEGER NOT NULL DEFAULT 0;
UPDATE monitoring_cases SET fixes_stored = (SELECT COUNT(*) FROM location_fixes WHERE case_id = monitoring_cases.id);

CREATE INDEX location_fixes_ts ON location_fixes (ts);
