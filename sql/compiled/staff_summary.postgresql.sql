-- staff_summary (postgresql): visits per day, location, service and role group
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
staff_groups AS NOT MATERIALIZED 
(SELECT emr_staff.id AS staff_id, role_groups.top_id AS role_group_id, group_role.name AS role_group_name, CASE WHEN (CAST(emr_staff.hourly_cost * 100 AS BIGINT) > 0) THEN CAST(emr_staff.hourly_cost * 100 AS BIGINT) ELSE 0 END AS hourly_cost_cents 
FROM emr_staff LEFT OUTER JOIN role_groups ON role_groups.node_id = emr_staff.role_id LEFT OUTER JOIN emr_role AS group_role ON group_role.id = role_groups.top_id), 
counted_visits AS 
(SELECT CAST(emr_visit.start_at AS DATE) AS day, emr_visit.location_id AS location_id, emr_visit.service_id AS service_id, staff_groups.role_group_id AS role_group_id, staff_groups.role_group_name AS role_group_name, emr_visit.patient_id AS patient_id, emr_visit.status AS status, CASE WHEN (emr_visit.status = 'completed') THEN CASE WHEN CASE WHEN ((emr_visit.start_at IS NOT NULL AND emr_visit.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_visit.start_at <= TIMESTAMP '9999-12-31 23:59:59.999999') AND (emr_visit.end_at IS NOT NULL AND emr_visit.end_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_visit.end_at <= TIMESTAMP '9999-12-31 23:59:59.999999')) THEN (emr_visit.end_at >= emr_visit.start_at AND emr_visit.end_at <= emr_visit.start_at + INTERVAL '86400 seconds') ELSE false END THEN CAST(EXTRACT(EPOCH FROM (date_trunc('second', emr_visit.end_at) - date_trunc('second', emr_visit.start_at))) AS BIGINT) END END AS valid_seconds 
FROM emr_visit LEFT OUTER JOIN staff_groups ON staff_groups.staff_id = emr_visit.staff_id 
WHERE (emr_visit.start_at IS NOT NULL AND emr_visit.start_at >= TIMESTAMP '0001-01-01 00:00:00' AND emr_visit.start_at <= TIMESTAMP '9999-12-31 23:59:59.999999') AND emr_visit.status IN ('completed', 'cancelled', 'no_show')), 
visit_counts AS 
(SELECT counted_visits.day AS day, counted_visits.location_id AS location_id, counted_visits.service_id AS service_id, counted_visits.role_group_id AS role_group_id, counted_visits.role_group_name AS role_group_name, count(*) FILTER (WHERE counted_visits.status = 'completed') AS nr_visits, count(DISTINCT counted_visits.patient_id) FILTER (WHERE counted_visits.status = 'completed') AS nr_patients, count(*) FILTER (WHERE counted_visits.status = 'cancelled') AS nr_cancelled, count(*) FILTER (WHERE counted_visits.status = 'no_show') AS nr_no_show, coalesce(sum(counted_visits.valid_seconds), 0) AS visit_seconds 
FROM counted_visits GROUP BY counted_visits.day, counted_visits.location_id, counted_visits.service_id, counted_visits.role_group_id, counted_visits.role_group_name), 
rounded AS 
(SELECT visit_counts.day AS day, visit_counts.location_id AS location_id, visit_counts.service_id AS service_id, visit_counts.role_group_id AS role_group_id, visit_counts.role_group_name AS role_group_name, visit_counts.nr_visits AS nr_visits, visit_counts.nr_patients AS nr_patients, visit_counts.nr_cancelled AS nr_cancelled, visit_counts.nr_no_show AS nr_no_show, visit_counts.visit_seconds AS visit_seconds, CAST(visit_counts.visit_seconds * 5 AS BIGINT) / CAST(3 AS BIGINT) + CASE WHEN (2 * (CAST(visit_counts.visit_seconds * 5 AS BIGINT) % CAST(3 AS BIGINT)) >= CAST(3 AS BIGINT)) THEN 1 ELSE 0 END AS visit_minutes_units 
FROM visit_counts)
 SELECT rounded.day, rounded.location_id, rounded.service_id, rounded.role_group_id, rounded.role_group_name, rounded.nr_visits, rounded.nr_patients, rounded.nr_cancelled, rounded.nr_no_show, (CAST(rounded.visit_minutes_units AS NUMERIC) / 100) AS visit_minutes 
FROM rounded;
