-- Location reports keep no foreign keys to their case and device. Retention detaches a
-- whole day while phones upload (DETACH PARTITION ... CONCURRENTLY), and with foreign keys a
-- detach locks each referenced table in turn (SHARE ROW EXCLUSIVE): holding the cases' lock
-- it waited for an upload that held its device's row and waited for its case's row, and
-- PostgreSQL ended one of them as a deadlock (seen at 70,000 patients). The references are
-- kept by the one writer of reports instead: an upload inserts them inside the transaction
-- that holds its case's row lock, and cases and devices are never deleted (reports leave
-- with their day or with their case's purge).
DO $$
DECLARE
    fk record;
BEGIN
    FOR fk IN
        SELECT conname FROM pg_constraint
        WHERE conrelid = 'location_fixes'::regclass AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE location_fixes DROP CONSTRAINT %I', fk.conname);
    END LOOP;
END $$;
