-- region_month_patients (sqlite): distinct patients per month and region (read by region_month)
-- Written by `manage.py compile_sql`; do not edit.
WITH RECURSIVE location_clinics_walk(node_id, seed_id, depth) AS 
(SELECT emr_location.id AS node_id, emr_location.id AS seed_id, 0 AS depth 
FROM emr_location 
WHERE emr_location.kind = 'clinic' UNION ALL SELECT location_clinics_child.id AS id, location_clinics_walk.seed_id AS seed_id, location_clinics_walk.depth + 1 AS anon_1 
FROM location_clinics_walk JOIN emr_location AS location_clinics_child ON location_clinics_child.parent_id = location_clinics_walk.node_id 
WHERE location_clinics_walk.depth < (SELECT count(*) AS count_1 
FROM emr_location) AND location_clinics_child.kind != 'clinic'), 
location_clinics AS 
(SELECT location_clinics_walk.node_id AS location_id, location_clinics_walk.seed_id AS clinic_id 
FROM location_clinics_walk), 
regions_walk(node_id, seed_id, depth) AS 
(SELECT emr_location.id AS node_id, emr_location.id AS seed_id, 0 AS depth 
FROM emr_location 
WHERE emr_location.parent_id IS NULL UNION ALL SELECT regions_child.id AS id, regions_walk.seed_id AS seed_id, regions_walk.depth + 1 AS anon_2 
FROM regions_walk JOIN emr_location AS regions_child ON regions_child.parent_id = regions_walk.node_id 
WHERE regions_walk.depth < (SELECT count(*) AS count_2 
FROM emr_location)), 
regions AS 
(SELECT regions_walk.node_id AS node_id, regions_walk.seed_id AS top_id 
FROM regions_walk), 
clinic_locations AS 
(SELECT DISTINCT  location_clinics.location_id AS location_id, location_clinics.clinic_id AS clinic_id, regions.top_id AS region_id 
FROM location_clinics LEFT OUTER JOIN regions ON regions.node_id = location_clinics.clinic_id), 
completed_clinic_visits AS 
(SELECT date(substr(emr_visit.start_at, 1, 10), 'start of month') AS month, clinic_locations.region_id AS region_id, CASE WHEN typeof(emr_visit.patient_id) = 'real' THEN CAST(round(emr_visit.patient_id) AS INTEGER) ELSE emr_visit.patient_id END AS patient_id, emr_visit.status AS status 
FROM emr_visit JOIN clinic_locations ON clinic_locations.location_id = CASE WHEN typeof(emr_visit.location_id) = 'real' THEN CAST(round(emr_visit.location_id) AS INTEGER) ELSE emr_visit.location_id END 
WHERE ((typeof(emr_visit.start_at) = 'text' AND (length(emr_visit.start_at) = 19 OR (length(emr_visit.start_at) > 20 AND substr(emr_visit.start_at, 20, 1) = '.' AND substr(emr_visit.start_at, 21) NOT GLOB '*[^0-9]*')) AND datetime(julianday(substr(emr_visit.start_at, 1, 19))) IS substr(emr_visit.start_at, 1, 19)) AND emr_visit.start_at >= '0001-01-01') = 1 AND emr_visit.status = 'completed'), 
patients_by_month AS 
(SELECT completed_clinic_visits.month AS month, completed_clinic_visits.region_id AS region_id, count(DISTINCT completed_clinic_visits.patient_id) AS nr_patients 
FROM completed_clinic_visits GROUP BY completed_clinic_visits.month, completed_clinic_visits.region_id)
 SELECT patients_by_month.month, patients_by_month.region_id, patients_by_month.nr_patients 
FROM patients_by_month;
