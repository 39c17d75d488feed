-- Change capture on SQLite: row-level triggers (SQLite has no statement triggers) log the
-- day of every inserted, updated (old and new day) or deleted visit and shift.
-- The same three triggers for each table. Statements are separated by --;
CREATE TRIGGER IF NOT EXISTS etl_emr_visit_insert AFTER INSERT ON emr_visit
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at) VALUES (DATE(NEW.start_at), 'emr_visit', CURRENT_TIMESTAMP);
END
--;
CREATE TRIGGER IF NOT EXISTS etl_emr_visit_update AFTER UPDATE ON emr_visit
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at) VALUES (DATE(OLD.start_at), 'emr_visit', CURRENT_TIMESTAMP);
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(NEW.start_at), 'emr_visit', CURRENT_TIMESTAMP WHERE DATE(NEW.start_at) IS NOT DATE(OLD.start_at);
END
--;
CREATE TRIGGER IF NOT EXISTS etl_emr_visit_delete AFTER DELETE ON emr_visit
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at) VALUES (DATE(OLD.start_at), 'emr_visit', CURRENT_TIMESTAMP);
END
--;
CREATE TRIGGER IF NOT EXISTS etl_emr_shift_insert AFTER INSERT ON emr_shift
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at) VALUES (DATE(NEW.start_at), 'emr_shift', CURRENT_TIMESTAMP);
END
--;
CREATE TRIGGER IF NOT EXISTS etl_emr_shift_update AFTER UPDATE ON emr_shift
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at) VALUES (DATE(OLD.start_at), 'emr_shift', CURRENT_TIMESTAMP);
    INSERT INTO etl_change_log (day, source, logged_at)
    SELECT DATE(NEW.start_at), 'emr_shift', CURRENT_TIMESTAMP WHERE DATE(NEW.start_at) IS NOT DATE(OLD.start_at);
END
--;
CREATE TRIGGER IF NOT EXISTS etl_emr_shift_delete AFTER DELETE ON emr_shift
BEGIN
    INSERT INTO etl_change_log (day, source, logged_at) VALUES (DATE(OLD.start_at), 'emr_shift', CURRENT_TIMESTAMP);
END
