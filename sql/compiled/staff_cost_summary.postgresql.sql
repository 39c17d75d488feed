-- staff_cost_summary (postgresql): rostered hours and staff cost against patients per day, location and role group
-- Written by `manage.py compile_sql`; do not edit.
WITH RECURSIVE role_groups_walk(node_id, seed_id, depth) AS 
(SELECT emr_role.id AS node_id, emr_role.id AS seed_id, 0 AS depth 
FROM emr_role 
WHERE emr_role.parent_id IS NULL UNION ALL SELECT role_groups_child.id AS id, role_groups_walk.seed_id AS seed_id, role_groups_walk.depth + 1 AS anon_1 
FROM role_groups_walk JOIN emr_role AS role_groups_child ON role_groups_child.parent_id = role_groups_walk.node_id 
WHERE role_groups_walk.depth < (SELECT count(*) AS count_1 
FROM emr_role)), 
role_groups AS 
(SELECT role_groups_walk.node_id AS node_id, role_groups_walk.seed_id AS top_id 
FROM role_groups_walk), 
staff_groups AS 
(SELECT emr_staff.id AS staff_id, role_groups.top_id AS role_group_id, group_role.name AS role_group_name, CAST(round(emr_staff.hourly_cost * 100) AS BIGINT) AS hourly_cost_cents 
FROM emr_staff LEFT OUTER JOIN role_groups ON role_groups.node_id = emr_staff.role_id LEFT OUTER JOIN emr_role AS group_role ON group_role.id = role_groups.top_id), 
shifts_by_group AS 
(SELECT CAST(emr_shift.start_at AS DATE) AS day, emr_shift.location_id AS location_id, staff_groups.role_group_id AS role_group_id, sum(CAST(EXTRACT(EPOCH FROM (date_trunc('second', emr_shift.end_at) - date_trunc('second', emr_shift.start_at))) AS BIGINT)) AS rostered_seconds, sum(CAST(EXTRACT(EPOCH FROM (date_trunc('second', emr_shift.end_at) - date_trunc('second', emr_shift.start_at))) AS BIGINT) * coalesce(staff_groups.hourly_cost_cents, 0)) AS cost_cent_seconds, count(DISTINCT emr_shift.staff_id) AS nr_staff 
FROM emr_shift LEFT OUTER JOIN staff_groups ON staff_groups.staff_id = emr_shift.staff_id 
WHERE emr_shift.end_at >= emr_shift.start_at GROUP BY CAST(emr_shift.start_at AS DATE), emr_shift.location_id, staff_groups.role_group_id), 
visits_by_group AS 
(SELECT CAST(emr_visit.start_at AS DATE) AS day, emr_visit.location_id AS location_id, staff_groups.role_group_id AS role_group_id, count(*) AS nr_visits, count(DISTINCT emr_visit.patient_id) AS nr_patients 
FROM emr_visit LEFT OUTER JOIN staff_groups ON staff_groups.staff_id = emr_visit.staff_id 
WHERE emr_visit.status = 'completed' GROUP BY CAST(emr_visit.start_at AS DATE), emr_visit.location_id, staff_groups.role_group_id), 
matched AS 
(SELECT shifts_and_visits.day AS day, shifts_and_visits.location_id AS location_id, shifts_and_visits.role_group_id AS role_group_id, sum(shifts_and_visits.rostered_seconds) AS rostered_seconds, sum(shifts_and_visits.cost_cent_seconds) AS cost_cent_seconds, sum(shifts_and_visits.nr_staff) AS nr_staff, sum(shifts_and_visits.nr_visits) AS nr_visits, sum(shifts_and_visits.nr_patients) AS nr_patients 
FROM (SELECT shifts_by_group.day AS day, shifts_by_group.location_id AS location_id, shifts_by_group.role_group_id AS role_group_id, shifts_by_group.rostered_seconds AS rostered_seconds, shifts_by_group.cost_cent_seconds AS cost_cent_seconds, shifts_by_group.nr_staff AS nr_staff, 0 AS nr_visits, 0 AS nr_patients 
FROM shifts_by_group UNION ALL SELECT visits_by_group.day AS day, visits_by_group.location_id AS location_id, visits_by_group.role_group_id AS role_group_id, 0 AS anon_2, 0 AS anon__1, 0 AS anon__2, visits_by_group.nr_visits AS nr_visits, visits_by_group.nr_patients AS nr_patients 
FROM visits_by_group) AS shifts_and_visits GROUP BY shifts_and_visits.day, shifts_and_visits.location_id, shifts_and_visits.role_group_id), 
rounded AS 
(SELECT matched.day AS day, matched.location_id AS location_id, matched.role_group_id AS role_group_id, matched.rostered_seconds AS rostered_seconds, matched.cost_cent_seconds AS cost_cent_seconds, matched.nr_staff AS nr_staff, matched.nr_visits AS nr_visits, matched.nr_patients AS nr_patients, ((CAST(matched.rostered_seconds * 25 AS BIGINT) * 2 + CAST(9 AS BIGINT)) / (2 * CAST(9 AS BIGINT))) AS hour_units, ((CAST(matched.cost_cent_seconds AS BIGINT) * 2 + CAST(3600 AS BIGINT)) / (2 * CAST(3600 AS BIGINT))) AS cost_cents 
FROM matched)
 SELECT rounded.day, rounded.location_id, rounded.role_group_id, (CAST(rounded.hour_units AS NUMERIC) / 10000) AS rostered_hours, (CAST(rounded.cost_cents AS NUMERIC) / 100) AS staff_cost, rounded.nr_staff, rounded.nr_visits, rounded.nr_patients, CASE WHEN (rounded.hour_units > 0) THEN (CAST(((CAST(rounded.nr_patients * 10000 * 10000 AS BIGINT) * 2 + CAST(rounded.hour_units AS BIGINT)) / (2 * CAST(rounded.hour_units AS BIGINT))) AS NUMERIC) / 10000) END AS patients_per_hour, CASE WHEN (rounded.nr_patients > 0) THEN (CAST(((CAST(rounded.cost_cents * 10000 AS BIGINT) * 2 + CAST(rounded.nr_patients * 100 AS BIGINT)) / (2 * CAST(rounded.nr_patients * 100 AS BIGINT))) AS NUMERIC) / 10000) END AS cost_per_patient 
FROM rounded;
