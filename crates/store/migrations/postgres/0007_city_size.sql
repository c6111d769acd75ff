-- City size (issue 14): the revocation list carries each pass's end, so the published list
-- (revocations of passes not yet expired) is one range of the primary key with no join;
-- location reports are partitioned by day, so retention drops whole days; and a case counts
-- its reports as they arrive, since whole days of them may be gone before the case is purged.

ALTER TABLE revocations ADD COLUMN valid_until BIGINT;
UPDATE revocations r SET valid_until = p.valid_until FROM passes p WHERE p.id = r.pass_id;
ALTER TABLE revocations ALTER COLUMN valid_until SET NOT NULL;
-- Revocations of passes long ended are forgotten (they are never listed again).
CREATE INDEX revocations_valid_until ON revocations (valid_until);

ALTER TABLE monitoring_cases ADD COLUMN fixes_stored BIGINT NOT NULL DEFAULT 0;
UPDATE monitoring_cases c SET fixes_stored = n
    FROM (SELECT case_id, COUNT(*) AS n FROM location_fixes GROUP BY case_id) f
    WHERE f.case_id = c.id;

-- location_fixes becomes a table partitioned by the UTC day of the report (`ts`): one
-- partition `location_fixes_pYYYYMMDD` per day, created ahead by the store and dropped whole
-- by retention. The reports already stored move into partitions of their days.
ALTER TABLE location_fixes RENAME TO location_fixes_unpartitioned;
ALTER TABLE location_fixes_unpartitioned RENAME CONSTRAINT location_fixes_pkey TO location_fixes_unpartitioned_pkey;
ALTER INDEX location_fixes_case RENAME TO location_fixes_unpartitioned_case;

CREATE TABLE location_fixes (
    device_id    TEXT NOT NULL REFERENCES monitoring_devices (id),
    ts           BIGINT NOT NULL,
    case_id      TEXT NOT NULL REFERENCES monitoring_cases (id),
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    accuracy_m   DOUBLE PRECISION NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (device_id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX location_fixes_case ON location_fixes (case_id, ts);

DO $$
DECLARE
    day BIGINT;
BEGIN
    FOR day IN SELECT DISTINCT div(ts, 86400) FROM location_fixes_unpartitioned LOOP
        EXECUTE format(
            'CREATE TABLE location_fixes_p%s PARTITION OF location_fixes FOR VALUES FROM (%s) TO (%s)',
            to_char(to_timestamp(day * 86400) AT TIME ZONE 'UTC', 'YYYYMMDD'),
            day * 86400, (day + 1) * 86400);
    END LOOP;
END
$$;
INSERT INTO location_fixes SELECT device_id, ts, case_id, lat, lon, accuracy_m, received_at
    FROM location_fixes_unpartitioned;
DROP TABLE location_fixes_unpartitioned;
