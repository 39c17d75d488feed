-- Change capture on PostgreSQL: statement-level triggers with transition tables log each
-- changed day once per statement (a bulk load of a million visits logs ~730 rows, not a
-- million). UPDATE logs the old and the new day; DELETE the old; TRUNCATE, which fires
-- no row events, logs a NULL day: "everything changed".
--
-- Only real days are logged: a start_at outside 0001-01-01 .. 9999-12-31 (PostgreSQL
-- accepts years up to 294276, years before Christ and infinity) has no day (CONTRACT
-- section 1), and its date could not even be read back by the build.
--
-- Every trigger is ENABLE ALWAYS: it fires under session_replication_role = replica too,
-- which logical-replication apply workers and pg_restore --disable-triggers use, so an
-- EMR database fed by replication still logs its changes. The function keeps the search
-- path it was created with (SET search_path FROM CURRENT): a logical-replication apply
-- process runs with an empty one, where etl_change_log would not be found. (A subscriber
-- needs the row-level triggers of postgresql-replica.sql as well.) Statements are separated by --;
CREATE OR REPLACE FUNCTION etl_log_changed_days() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO etl_change_log (day, source, logged_at)
        VALUES (NULL, TG_TABLE_NAME, now() AT TIME ZONE 'UTC');
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO etl_change_log (day, source, logged_at)
        SELECT DISTINCT CAST(start_at AS DATE), TG_TABLE_NAME, now() AT TIME ZONE 'UTC' FROM old_rows
        WHERE start_at >= TIMESTAMP '0001-01-01 00:00:00' AND start_at < TIMESTAMP '10000-01-01 00:00:00';
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO etl_change_log (day, source, logged_at)
        SELECT DISTINCT CAST(start_at AS DATE), TG_TABLE_NAME, now() AT TIME ZONE 'UTC' FROM new_rows
        WHERE start_at >= TIMESTAMP '0001-01-01 00:00:00' AND start_at < TIMESTAMP '10000-01-01 00:00:00';
    END IF;
    RETURN NULL;
END
$$
--;
DROP TRIGGER IF EXISTS etl_changes_insert ON emr_visit
--;
CREATE TRIGGER etl_changes_insert AFTER INSERT ON emr_visit REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION etl_log_changed_days()
--;
DROP TRIGGER IF EXISTS etl_changes_update ON emr_visit
--;
CREATE TRIGGER etl_changes_update AFTER UPDATE ON emr_visit REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION etl_log_changed_days()
--;
DROP TRIGGER IF EXISTS etl_changes_delete ON emr_visit
--;
CREATE TRIGGER etl_changes_delete AFTER DELETE ON emr_visit REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION etl_log_changed_days()
--;
DROP TRIGGER IF EXISTS etl_changes_truncate ON emr_visit
--;
CREATE TRIGGER etl_changes_truncate AFTER TRUNCATE ON emr_visit
    FOR EACH STATEMENT EXECUTE FUNCTION etl_log_changed_days()
--;
DROP TRIGGER IF EXISTS etl_changes_insert ON emr_shift
--;
CREATE TRIGGER etl_changes_insert AFTER INSERT ON emr_shift REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION etl_log_changed_days()
--;
DROP TRIGGER IF EXISTS etl_changes_update ON emr_shift
--;
CREATE TRIGGER etl_changes_update AFTER UPDATE ON emr_shift REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION etl_log_changed_days()
--;
DROP TRIGGER IF EXISTS etl_changes_delete ON emr_shift
--;
CREATE TRIGGER etl_changes_delete AFTER DELETE ON emr_shift REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION etl_log_changed_days()
--;
DROP TRIGGER IF EXISTS etl_changes_truncate ON emr_shift
--;
CREATE TRIGGER etl_changes_truncate AFTER TRUNCATE ON emr_shift
    FOR EACH STATEMENT EXECUTE FUNCTION etl_log_changed_days()
--;
ALTER TABLE emr_visit ENABLE ALWAYS TRIGGER etl_changes_insert
--;
ALTER TABLE emr_visit ENABLE ALWAYS TRIGGER etl_changes_update
--;
ALTER TABLE emr_visit ENABLE ALWAYS TRIGGER etl_changes_delete
--;
ALTER TABLE emr_visit ENABLE ALWAYS TRIGGER etl_changes_truncate
--;
ALTER TABLE emr_shift ENABLE ALWAYS TRIGGER etl_changes_insert
--;
ALTER TABLE emr_shift ENABLE ALWAYS TRIGGER etl_changes_update
--;
ALTER TABLE emr_shift ENABLE ALWAYS TRIGGER etl_changes_delete
--;
ALTER TABLE emr_shift ENABLE ALWAYS TRIGGER etl_changes_truncate
