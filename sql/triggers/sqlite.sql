-- Change capture on SQLite: row-level triggers (SQLite has no statement triggers) log the
-- day of every inserted, updated (old and new day) or deleted visit and shift.
--
-- Only real days are logged: DATE() of a start_at that is not a timestamp is NULL, and a
-- day outside 0001-01-01 .. 9999-12-31 is no day (CONTRACT section 1); such rows are
-- counted nowhere, so there is nothing to rebuild for them.
--
-- The REPLACE conflict forms (INSERT OR REPLACE, REPLACE INTO, UPDATE OR REPLACE of the
-- id) delete the row they replace without firing DELETE triggers (recursive_triggers is
-- off by default, and it is a per-connection setting): BEFORE triggers log the day of the
-- row about to be replaced. They live in the database, so they fire on every connection.
-- A plain INSERT that conflicts fails and rolls its log row back with it.
--
-- Each trigger is dropped and created again, so init_emr brings old definitions up to
-- date. Statements are separated by --;
DROP TRIGGER IF EXISTS etl_emr_visit_insert
--;
CREATE TRIGGER etl_emr_visit_insert AFTER INSERT ON emr_visit
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(NEW.start_at), 'emr_visit', CURRENT_TIMESTAMP WHERE DATE(NEW.start_at) BETWEEN '0001-01-01' AND '9999-12-31';
END
--;
DROP TRIGGER IF EXISTS etl_emr_visit_update
--;
CREATE TRIGGER etl_emr_visit_update AFTER UPDATE ON emr_visit
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(OLD.start_at), 'emr_visit', CURRENT_TIMESTAMP WHERE DATE(OLD.start_at) BETWEEN '0001-01-01' AND '9999-12-31';
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(NEW.start_at), 'emr_visit', CURRENT_TIMESTAMP WHERE DATE(NEW.start_at) BETWEEN '0001-01-01' AND '9999-12-31'
        AND DATE(NEW.start_at) IS NOT DATE(OLD.start_at);
END
--;
DROP TRIGGER IF EXISTS etl_emr_visit_delete
--;
CREATE TRIGGER etl_emr_visit_delete AFTER DELETE ON emr_visit
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(OLD.start_at), 'emr_visit', CURRENT_TIMESTAMP WHERE DATE(OLD.start_at) BETWEEN '0001-01-01' AND '9999-12-31';
END
--;
DROP TRIGGER IF EXISTS etl_emr_visit_replace
--;
CREATE TRIGGER etl_emr_visit_replace BEFORE INSERT ON emr_visit
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(start_at), 'emr_visit', CURRENT_TIMESTAMP FROM emr_visit
    WHERE id = NEW.id AND DATE(start_at) BETWEEN '0001-01-01' AND '9999-12-31';
END
--;
DROP TRIGGER IF EXISTS etl_emr_visit_reid
--;
CREATE TRIGGER etl_emr_visit_reid BEFORE UPDATE OF id ON emr_visit WHEN NEW.id IS NOT OLD.id
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(start_at), 'emr_visit', CURRENT_TIMESTAMP FROM emr_visit
    WHERE id = NEW.id AND DATE(start_at) BETWEEN '0001-01-01' AND '9999-12-31';
END
--;
DROP TRIGGER IF EXISTS etl_emr_shift_insert
--;
CREATE TRIGGER etl_emr_shift_insert AFTER INSERT ON emr_shift
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(NEW.start_at), 'emr_shift', CURRENT_TIMESTAMP WHERE DATE(NEW.start_at) BETWEEN '0001-01-01' AND '9999-12-31';
END
--;
DROP TRIGGER IF EXISTS etl_emr_shift_update
--;
CREATE TRIGGER etl_emr_shift_update AFTER UPDATE ON emr_shift
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(OLD.start_at), 'emr_shift', CURRENT_TIMESTAMP WHERE DATE(OLD.start_at) BETWEEN '0001-01-01' AND '9999-12-31';
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(NEW.start_at), 'emr_shift', CURRENT_TIMESTAMP WHERE DATE(NEW.start_at) BETWEEN '0001-01-01' AND '9999-12-31'
        AND DATE(NEW.start_at) IS NOT DATE(OLD.start_at);
END
--;
DROP TRIGGER IF EXISTS etl_emr_shift_delete
--;
CREATE TRIGGER etl_emr_shift_delete AFTER DELETE ON emr_shift
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(OLD.start_at), 'emr_shift', CURRENT_TIMESTAMP WHERE DATE(OLD.start_at) BETWEEN '0001-01-01' AND '9999-12-31';
END
--;
DROP TRIGGER IF EXISTS etl_emr_shift_replace
--;
CREATE TRIGGER etl_emr_shift_replace BEFORE INSERT ON emr_shift
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(start_at), 'emr_shift', CURRENT_TIMESTAMP FROM emr_shift
    WHERE id = NEW.id AND DATE(start_at) BETWEEN '0001-01-01' AND '9999-12-31';
END
--;
DROP TRIGGER IF EXISTS etl_emr_shift_reid
--;
CREATE TRIGGER etl_emr_shift_reid BEFORE UPDATE OF id ON emr_shift WHEN NEW.id IS NOT OLD.id
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(start_at), 'emr_shift', CURRENT_TIMESTAMP FROM emr_shift
    WHERE id = NEW.id AND DATE(start_at) BETWEEN '0001-01-01' AND '9999-12-31';
END
