-- A patient's own explanation of a flag, written before an officer decides it (the SMS of
-- every flag asks for one): at most one per flag, replaced until the first decision and
-- kept afterwards, as the officer read it. Not an event of the flag's log: it changes no
-- state, and the appeal after a sanction keeps its own statement (monitoring_appeals).
ALTER TABLE monitoring_flags ADD COLUMN statement TEXT;
ALTER TABLE monitoring_flags ADD COLUMN statement_at BIGINT;
