-- clinic_day (postgresql): visits, hours, cost and their ratios per day and clinic
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
clinic_locations AS NOT MATERIALIZED 
(SELECT DISTINCT ON (location_clinics.location_id) location_clinics.location_id AS location_id, location_clinics.clinic_id AS clinic_id, regions.top_id AS region_id 
FROM location_clinics LEFT OUTER JOIN regions ON regions.node_id = location_clinics.clinic_id), 
counted_clinic_visits AS 
(SELECT CAST(emr_visit.start_at AS DATE) AS day, clinic_locations.clinic_id AS clinic_id, clinic_locations.region_id AS region_id, emr_visit.location_id AS location_id, emr_visit.patient_id AS patient_id, emr_visit.status AS status 
FROM emr_visit JOIN clinic_locations ON clinic_locations.location_id = emr_visit.location_id 
WHERE (emr_visit.start_at IS NOT NULL AND emr_visit.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_visit.start_at <= TIMESTAMP '9999-12-31 23:59:59.999999') AND emr_visit.status IN ('completed', 'cancelled', 'no_show')), 
clinic_visits AS 
(SELECT counted_clinic_visits.day AS day, counted_clinic_visits.clinic_id AS clinic_id, counted_clinic_visits.region_id AS region_id, count(*) FILTER (WHERE counted_clinic_visits.status = 'completed') AS nr_visits, count(*) FILTER (WHERE counted_clinic_visits.status = 'cancelled') AS nr_cancelled, count(*) FILTER (WHERE counted_clinic_visits.status = 'no_show') AS nr_no_show, count(DISTINCT counted_clinic_visits.patient_id) FILTER (WHERE counted_clinic_visits.status = 'completed') AS nr_patients 
FROM counted_clinic_visits GROUP BY counted_clinic_visits.day, counted_clinic_visits.clinic_id, counted_clinic_visits.region_id), 
role_groups_walk(node_id, seed_id, depth) AS 
(SELECT emr_role.id AS node_id, emr_role.id AS seed_id, 0 AS depth 
FROM emr_role 
WHERE emr_role.parent_id IS NULL UNION ALL SELECT role_groups_child.id AS id, role_groups_walk.seed_id AS seed_id, role_groups_walk.depth + 1 AS anon_3 
FROM role_groups_walk JOIN emr_role AS role_groups_child ON role_groups_child.parent_id = role_groups_walk.node_id 
WHERE role_groups_walk.depth < (SELECT count(*) AS count_3 
FROM emr_role)), 
role_groups AS 
(SELECT role_groups_walk.node_id AS node_id, role_groups_walk.seed_id AS top_id 
FROM role_groups_walk), 
staff_groups AS NOT MATERIALIZED 
(SELECT emr_staff.id AS staff_id, role_groups.top_id AS role_group_id, group_role.name AS role_group_name, CASE WHEN (CAST(emr_staff.hourly_cost * 100 AS BIGINT) > 0) THEN CAST(emr_staff.hourly_cost * 100 AS BIGINT) ELSE 0 END AS hourly_cost_cents 
FROM emr_staff LEFT OUTER JOIN role_groups ON role_groups.node_id = emr_staff.role_id LEFT OUTER JOIN emr_role AS group_role ON group_role.id = role_groups.top_id), 
valid_clinic_shifts AS 
(SELECT CAST(emr_shift.start_at AS DATE) AS day, clinic_locations.clinic_id AS clinic_id, clinic_locations.region_id AS region_id, emr_shift.location_id AS location_id, emr_shift.staff_id AS staff_id, CASE WHEN CASE WHEN ((emr_shift.start_at IS NOT NULL AND emr_shift.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_shift.start_at <= TIMESTAMP '9999-12-31 23:59:59.999999') AND (emr_shift.end_at IS NOT NULL AND emr_shift.end_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_shift.end_at <= TIMESTAMP '9999-12-31 23:59:59.999999')) THEN (emr_shift.end_at >= emr_shift.start_at AND emr_shift.end_at <= emr_shift.start_at + INTERVAL '86400 seconds') ELSE false END THEN CAST(EXTRACT(EPOCH FROM (date_trunc('second', emr_shift.end_at) - date_trunc('second', emr_shift.start_at))) AS BIGINT) END AS seconds, CASE WHEN CASE WHEN ((emr_shift.start_at IS NOT NULL AND emr_shift.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_shift.start_at <= TIMESTAMP '9999-12-31 23:59:59.999999') AND (emr_shift.end_at IS NOT NULL AND emr_shift.end_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_shift.end_at <= TIMESTAMP '9999-12-31 23:59:59.999999')) THEN (emr_shift.end_at >= emr_shift.start_at AND emr_shift.end_at <= emr_shift.start_at + INTERVAL '86400 seconds') ELSE false END THEN CAST(EXTRACT(EPOCH FROM (date_trunc('second', emr_shift.end_at) - date_trunc('second', emr_shift.start_at))) AS BIGINT) END * coalesce(staff_groups.hourly_cost_cents, 0) AS cost_cent_seconds 
FROM emr_shift JOIN clinic_locations ON clinic_locations.location_id = emr_shift.location_id LEFT OUTER JOIN staff_groups ON staff_groups.staff_id = emr_shift.staff_id 
WHERE (emr_shift.start_at IS NOT NULL AND emr_shift.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_shift.start_at <= TIMESTAMP '9999-12-31 23:59:59.999999') AND CASE WHEN CASE WHEN ((emr_shift.start_at IS NOT NULL AND emr_shift.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_shift.start_at <= TIMESTAMP '9999-12-31 23:59:59.999999') AND (emr_shift.end_at IS NOT NULL AND emr_shift.end_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_shift.end_at <= TIMESTAMP '9999-12-31 23:59:59.999999')) THEN (emr_shift.end_at >= emr_shift.start_at AND emr_shift.end_at <= emr_shift.start_at + INTERVAL '86400 seconds') ELSE false END THEN CAST(EXTRACT(EPOCH FROM (date_trunc('second', emr_shift.end_at) - date_trunc('second', emr_shift.start_at))) AS BIGINT) END IS NOT NULL), 
clinic_shifts AS 
(SELECT valid_clinic_shifts.day AS day, valid_clinic_shifts.clinic_id AS clinic_id, valid_clinic_shifts.region_id AS region_id, coalesce(sum(valid_clinic_shifts.seconds), 0) AS rostered_seconds, coalesce(sum(valid_clinic_shifts.cost_cent_seconds / 3600), 0) AS cost_cent_seconds_whole, coalesce(sum(valid_clinic_shifts.cost_cent_seconds % 3600), 0) AS cost_cent_seconds_rest, count(DISTINCT valid_clinic_shifts.staff_id) AS nr_staff 
FROM valid_clinic_shifts GROUP BY valid_clinic_shifts.day, valid_clinic_shifts.clinic_id, valid_clinic_shifts.region_id), 
matched AS 
(SELECT stacked_inputs.day AS day, stacked_inputs.clinic_id AS clinic_id, stacked_inputs.region_id AS region_id, coalesce(max(stacked_inputs.nr_visits), 0) AS nr_visits, coalesce(max(stacked_inputs.nr_cancelled), 0) AS nr_cancelled, coalesce(max(stacked_inputs.nr_no_show), 0) AS nr_no_show, coalesce(max(stacked_inputs.nr_patients), 0) AS nr_patients, coalesce(max(stacked_inputs.rostered_seconds), 0) AS rostered_seconds, coalesce(max(stacked_inputs.cost_cent_seconds_whole), 0) AS cost_cent_seconds_whole, coalesce(max(stacked_inputs.cost_cent_seconds_rest), 0) AS cost_cent_seconds_rest, coalesce(max(stacked_inputs.nr_staff), 0) AS nr_staff 
FROM (SELECT clinic_visits.day AS day, clinic_visits.clinic_id AS clinic_id, clinic_visits.region_id AS region_id, clinic_visits.nr_visits AS nr_visits, clinic_visits.nr_cancelled AS nr_cancelled, clinic_visits.nr_no_show AS nr_no_show, clinic_visits.nr_patients AS nr_patients, CAST(NULL AS INTEGER) AS rostered_seconds, CAST(NULL AS INTEGER) AS cost_cent_seconds_whole, CAST(NULL AS INTEGER) AS cost_cent_seconds_rest, CAST(NULL AS INTEGER) AS nr_staff 
FROM clinic_visits UNION ALL SELECT clinic_shifts.day AS day, clinic_shifts.clinic_id AS clinic_id, clinic_shifts.region_id AS region_id, CAST(NULL AS INTEGER) AS nr_visits, CAST(NULL AS INTEGER) AS nr_cancelled, CAST(NULL AS INTEGER) AS nr_no_show, CAST(NULL AS INTEGER) AS nr_patients, clinic_shifts.rostered_seconds AS rostered_seconds, clinic_shifts.cost_cent_seconds_whole AS cost_cent_seconds_whole, clinic_shifts.cost_cent_seconds_rest AS cost_cent_seconds_rest, clinic_shifts.nr_staff AS nr_staff 
FROM clinic_shifts) AS stacked_inputs GROUP BY stacked_inputs.day, stacked_inputs.clinic_id, stacked_inputs.region_id), 
rounded AS 
(SELECT matched.day AS day, matched.clinic_id AS clinic_id, matched.region_id AS region_id, matched.nr_visits AS nr_visits, matched.nr_cancelled AS nr_cancelled, matched.nr_no_show AS nr_no_show, matched.nr_patients AS nr_patients, matched.rostered_seconds AS rostered_seconds, matched.cost_cent_seconds_whole AS cost_cent_seconds_whole, matched.cost_cent_seconds_rest AS cost_cent_seconds_rest, matched.nr_staff AS nr_staff, CAST(matched.rostered_seconds * 25 AS BIGINT) / CAST(9 AS BIGINT) + CASE WHEN (2 * (CAST(matched.rostered_seconds * 25 AS BIGINT) % CAST(9 AS BIGINT)) >= CAST(9 AS BIGINT)) THEN 1 ELSE 0 END AS rostered_hours_units, matched.cost_cent_seconds_whole + CAST(matched.cost_cent_seconds_rest AS BIGINT) / CAST(3600 AS BIGINT) + CASE WHEN (2 * (CAST(matched.cost_cent_seconds_rest AS BIGINT) % CAST(3600 AS BIGINT)) >= CAST(3600 AS BIGINT)) THEN 1 ELSE 0 END AS staff_cost_units 
FROM matched)
 SELECT rounded.day, rounded.clinic_id, rounded.region_id, rounded.nr_visits, rounded.nr_cancelled, rounded.nr_no_show, rounded.nr_patients, CASE WHEN (rounded.nr_visits + rounded.nr_no_show > 0) THEN (CAST((CAST(rounded.nr_no_show AS BIGINT) / CAST(rounded.nr_visits + rounded.nr_no_show AS BIGINT)) * 10000 + CAST((CAST(rounded.nr_no_show AS BIGINT) % CAST(rounded.nr_visits + rounded.nr_no_show AS BIGINT)) * 10000 AS BIGINT) / CAST(rounded.nr_visits + rounded.nr_no_show AS BIGINT) + CASE WHEN (2 * (CAST((CAST(rounded.nr_no_show AS BIGINT) % CAST(rounded.nr_visits + rounded.nr_no_show AS BIGINT)) * 10000 AS BIGINT) % CAST(rounded.nr_visits + rounded.nr_no_show AS BIGINT)) >= CAST(rounded.nr_visits + rounded.nr_no_show AS BIGINT)) THEN 1 ELSE 0 END AS NUMERIC) / 10000) END AS no_show_rate, (CAST(rounded.rostered_hours_units AS NUMERIC) / 10000) AS rostered_hours, (CAST(rounded.staff_cost_units AS NUMERIC) / 100) AS staff_cost, rounded.nr_staff, CASE WHEN (rounded.rostered_hours_units > 0) THEN (CAST((CAST(rounded.nr_patients * 10000 AS BIGINT) / CAST(rounded.rostered_hours_units AS BIGINT)) * 10000 + CAST((CAST(rounded.nr_patients * 10000 AS BIGINT) % CAST(rounded.rostered_hours_units AS BIGINT)) * 10000 AS BIGINT) / CAST(rounded.rostered_hours_units AS BIGINT) + CASE WHEN (2 * (CAST((CAST(rounded.nr_patients * 10000 AS BIGINT) % CAST(rounded.rostered_hours_units AS BIGINT)) * 10000 AS BIGINT) % CAST(rounded.rostered_hours_units AS BIGINT)) >= CAST(rounded.rostered_hours_units AS BIGINT)) THEN 1 ELSE 0 END AS NUMERIC) / 10000) END AS patients_per_hour, CASE WHEN (rounded.nr_patients > 0) THEN (CAST((CAST(rounded.staff_cost_units AS BIGINT) / CAST(rounded.nr_patients * 100 AS BIGINT)) * 10000 + CAST((CAST(rounded.staff_cost_units AS BIGINT) % CAST(rounded.nr_patients * 100 AS BIGINT)) * 10000 AS BIGINT) / CAST(rounded.nr_patients * 100 AS BIGINT) + CASE WHEN (2 * (CAST((CAST(rounded.staff_cost_units AS BIGINT) % CAST(rounded.nr_patients * 100 AS BIGINT)) * 10000 AS BIGINT) % CAST(rounded.nr_patients * 100 AS BIGINT)) >= CAST(rounded.nr_patients * 100 AS BIGINT)) THEN 1 ELSE 0 END AS NUMERIC) / 10000) END AS cost_per_patient 
FROM rounded;
