-- Raw EMR tables (CONTRACT section 1): what clinics' EMR exports are loaded into.
-- Portable ANSI DDL: runs unchanged on PostgreSQL and SQLite. No foreign keys (exports
-- arrive out of order); timestamps are clinic wall-clock time without a time zone.
-- This file is the only definition of these tables: etl/db/tables.py reflects it.

CREATE TABLE IF NOT EXISTS emr_location (
    id BIGINT NOT NULL PRIMARY KEY,
    parent_id BIGINT NULL,
    name VARCHAR(200) NOT NULL,
    kind VARCHAR(20) NOT NULL
);

CREATE TABLE IF NOT EXISTS emr_role (
    id BIGINT NOT NULL PRIMARY KEY,
    parent_id BIGINT NULL,
    name VARCHAR(200) NOT NULL
);

CREATE TABLE IF NOT EXISTS emr_staff (
    id BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    role_id BIGINT NULL,
    hourly_cost NUMERIC(10, 2) NULL
);

CREATE TABLE IF NOT EXISTS emr_service (
    id BIGINT NOT NULL PRIMARY KEY,
    code VARCHAR(50) NOT NULL UNIQUE,
    name VARCHAR(200) NOT NULL
);

CREATE TABLE IF NOT EXISTS emr_patient (
    id BIGINT NOT NULL PRIMARY KEY,
    birth_date DATE NULL,
    sex VARCHAR(10) NULL
);

CREATE TABLE IF NOT EXISTS emr_visit (
    id BIGINT NOT NULL PRIMARY KEY,
    patient_id BIGINT NOT NULL,
    location_id BIGINT NOT NULL,
    service_id BIGINT NULL,
    staff_id BIGINT NULL,
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NULL,
    status VARCHAR(20) NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS emr_shift (
    id BIGINT NOT NULL PRIMARY KEY,
    staff_id BIGINT NOT NULL,
    location_id BIGINT NOT NULL,
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Builds select visits and shifts by day (the partition key) and join staff by id.
CREATE INDEX IF NOT EXISTS emr_visit_start_at ON emr_visit (start_at);
CREATE INDEX IF NOT EXISTS emr_shift_start_at ON emr_shift (start_at);
CREATE INDEX IF NOT EXISTS emr_staff_role_id ON emr_staff (role_id);
-- Hierarchies are walked from the roots down to the children (etl/queries/hierarchy.py).
CREATE INDEX IF NOT EXISTS emr_role_parent_id ON emr_role (parent_id);
CREATE INDEX IF NOT EXISTS emr_location_parent_id ON emr_location (parent_id);
