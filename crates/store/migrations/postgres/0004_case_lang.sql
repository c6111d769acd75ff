-- The language of a quarantine patient's SMS (ru or en): the officer chooses it when
-- opening the case; cases opened before it existed stay Russian.
ALTER TABLE monitoring_cases ADD COLUMN lang TEXT NOT NULL DEFAULT 'ru';
