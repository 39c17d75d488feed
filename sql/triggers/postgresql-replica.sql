-- Change capture on a PostgreSQL logical-replication subscriber (`init_emr --replica`, or
-- `init_emr` on a database that subscribes to the raw tables), run after postgresql.sql.
-- The apply process fires row-level triggers only (and TRUNCATE's), never the
-- statement-level ones of postgresql.sql: here a row-level trigger logs each changed row's
-- day (UPDATE: the old day, and the new one when it differs; DELETE: the old; INSERT: the
-- new), in place of the statement-level INSERT, UPDATE and DELETE triggers, which are
-- dropped (the initial table copy fires both kinds). TRUNCATE keeps its trigger.
--
-- A replicated load logs one row per raw row it changed (the build reads each day once).
-- Only real days are logged, as in postgresql.sql. ENABLE ALWAYS: the apply process runs
-- under session_replication_role = replica, where ordinary triggers do not fire.
-- Statements are separated by --;
CREATE OR REPLACE FUNCTION etl_log_changed_row() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    old_day DATE;
    new_day DATE;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND OLD.start_at < TIMESTAMP '10000-01-01 00:00:00' THEN
            old_day := CAST(OLD.start_at AS DATE);
            INSERT INTO etl_change_log (day, source, logged_at)
            VALUES (old_day, TG_TABLE_NAME, now() AT TIME ZONE 'UTC');
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        IF NEW.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND NEW.start_at < TIMESTAMP '10000-01-01 00:00:00' THEN
            new_day := CAST(NEW.start_at AS DATE);
            IF new_day IS DISTINCT FROM old_day THEN
                INSERT INTO etl_change_log (day, source, logged_at)
                VALUES (new_day, TG_TABLE_NAME, now() AT TIME ZONE 'UTC');
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END
$$
--;
DROP TRIGGER IF EXISTS etl_changes_insert ON emr_visit
--;
DROP TRIGGER IF EXISTS etl_changes_update ON emr_visit
--;
DROP TRIGGER IF EXISTS etl_changes_delete ON emr_visit
--;
DROP TRIGGER IF EXISTS etl_changes_row ON emr_visit
--;
CREATE TRIGGER etl_changes_row AFTER INSERT OR UPDATE OR DELETE ON emr_visit
    FOR EACH ROW EXECUTE FUNCTION etl_log_changed_row()
--;
DROP TRIGGER IF EXISTS etl_changes_insert ON emr_shift
--;
DROP TRIGGER IF EXISTS etl_changes_update ON emr_shift
--;
DROP TRIGGER IF EXISTS etl_changes_delete ON emr_shift
--;
DROP TRIGGER IF EXISTS etl_changes_row ON emr_shift
--;
CREATE TRIGGER etl_changes_row AFTER INSERT OR UPDATE OR DELETE ON emr_shift
    FOR EACH ROW EXECUTE FUNCTION etl_log_changed_row()
--;
ALTER TABLE emr_visit ENABLE ALWAYS TRIGGER etl_changes_row
--;
ALTER TABLE emr_shift ENABLE ALWAYS TRIGGER etl_changes_row
