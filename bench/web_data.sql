-- Two years of summaries for the reading-side benchmark (bench/web.py), PostgreSQL.
-- Parameters: %(regions)s regions, %(clinics)s clinics in all, %(days)s days from %(start)s.
-- Values are deterministic functions of the row's keys (no random()), so runs compare.
-- bench/web.py runs VACUUM ANALYZE after it, as autovacuum would on settled tables.
TRUNCATE dim_location, dim_service, dim_role_group, staff_summary, staff_cost_summary,
         clinic_day, clinic_score, region_month, etl_summary_state;

INSERT INTO dim_location (id, parent_id, name, kind, clinic_id, region_id)
SELECT r, NULL, 'Region ' || r, 'region', NULL, r FROM generate_series(1, %(regions)s) r;
INSERT INTO dim_location (id, parent_id, name, kind, clinic_id, region_id)
SELECT 1000 + c, 1 + c %% %(regions)s, 'Clinic ' || c, 'clinic', 1000 + c, 1 + c %% %(regions)s
FROM generate_series(1, %(clinics)s) c;
INSERT INTO dim_location (id, parent_id, name, kind, clinic_id, region_id)
SELECT 100000 + c * 10 + k, 1000 + c, 'Clinic ' || c || ' dept ' || k, 'department', 1000 + c, 1 + c %% %(regions)s
FROM generate_series(1, %(clinics)s) c CROSS JOIN generate_series(1, 2) k;
INSERT INTO dim_service (id, code, name) VALUES (1, 'GP', 'General practice'), (2, 'DEN', 'Dental');
INSERT INTO dim_role_group (id, name) VALUES (1, 'Nursing'), (2, 'Physicians');

INSERT INTO staff_summary (day, location_id, service_id, role_group_id, role_group_name, nr_visits, nr_patients,
                           nr_cancelled, nr_no_show, visit_minutes)
SELECT d::date, l.id, s, g, CASE g WHEN 1 THEN 'Nursing' ELSE 'Physicians' END,
       5 + (l.id + s * 7 + g * 3 + extract(doy FROM d)::int) %% 20, 4 + (l.id + extract(doy FROM d)::int) %% 15,
       (l.id + g) %% 4, (l.id + s + extract(dow FROM d)::int) %% 5, 100 + (l.id %% 50) * 3
FROM dim_location l
CROSS JOIN generate_series(%(start)s::date, %(start)s::date + (%(days)s - 1), interval '1 day') d
CROSS JOIN generate_series(1, 2) s CROSS JOIN generate_series(1, 2) g
WHERE l.kind = 'department';

INSERT INTO staff_cost_summary (day, location_id, role_group_id, rostered_hours, staff_cost, nr_staff, nr_visits,
                                nr_patients, patients_per_hour, cost_per_patient)
SELECT day, location_id, role_group_id, 16, 16 * 45.5, 2, sum(nr_visits), sum(nr_patients),
       round(sum(nr_patients) / 16.0, 4), round(16 * 45.5 / sum(nr_patients), 4)
FROM staff_summary GROUP BY day, location_id, role_group_id;

INSERT INTO clinic_day (day, clinic_id, region_id, nr_visits, nr_cancelled, nr_no_show, nr_patients, no_show_rate,
                        rostered_hours, staff_cost, nr_staff, patients_per_hour, cost_per_patient)
SELECT s.day, l.clinic_id, l.region_id, sum(s.nr_visits), sum(s.nr_cancelled), sum(s.nr_no_show), sum(s.nr_patients),
       round(sum(s.nr_no_show)::numeric / nullif(sum(s.nr_visits) + sum(s.nr_no_show), 0), 4),
       64, 64 * 45.5, 8, round(sum(s.nr_patients) / 64.0, 4), round(64 * 45.5 / sum(s.nr_patients), 4)
FROM staff_summary s JOIN dim_location l ON l.id = s.location_id
GROUP BY s.day, l.clinic_id, l.region_id;

-- Baselines near the data's own mean and sd (1.375 and 0.487 patients per hour, 38.6 and
-- 16.9 per patient), so z stays within about 2; one clinic-day in a hundred is pushed to
-- z = 3.5 and flagged: outliers are rare, as in real data.
INSERT INTO clinic_score (day, clinic_id, region_id, patients_per_hour, cost_per_patient, visits_7d,
                          pph_baseline_days, pph_mean, pph_sd, pph_z, cpp_baseline_days, cpp_mean, cpp_sd, cpp_z,
                          is_outlier, pph_rank, pph_pct_rank)
SELECT day, clinic_id, region_id, patients_per_hour, cost_per_patient, nr_visits * 7,
       28, 1.375, 0.487, pph_z, 28, 38.6, 16.9, (cost_per_patient - 38.6) / 16.9,
       abs(pph_z) >= 3, rank() OVER (PARTITION BY day, region_id ORDER BY patients_per_hour DESC), 0.5
FROM (SELECT *, CASE WHEN (clinic_id * 31 + extract(doy FROM day)::int) %% 100 = 0 THEN 3.5
                     ELSE (patients_per_hour - 1.375) / 0.487 END AS pph_z
      FROM clinic_day) d;

INSERT INTO region_month (month, region_id, nr_clinics, nr_visits, nr_no_show, nr_patients, rostered_hours,
                          staff_cost, visits_per_hour, cost_per_patient, outlier_days, visits_change)
SELECT date_trunc('month', day)::date, region_id, count(DISTINCT clinic_id), sum(nr_visits), sum(nr_no_show),
       sum(nr_patients), sum(rostered_hours), sum(staff_cost), round(sum(nr_visits) / sum(rostered_hours), 4),
       round(sum(staff_cost) / sum(nr_patients), 4), 0, NULL
FROM clinic_day GROUP BY 1, 2;

-- What a build records of each summary it wrote (the row count serves unfiltered listings).
INSERT INTO etl_summary_state (name, definition_hash, definition_stamp, built_at, full_built_at, full_reason,
                               raw_identity, row_count)
SELECT name, 'bench', '', now(), now(), '', '', row_count
FROM (SELECT 'staff_summary' AS name, count(*) AS row_count FROM staff_summary
      UNION ALL SELECT 'staff_cost_summary', count(*) FROM staff_cost_summary
      UNION ALL SELECT 'clinic_day', count(*) FROM clinic_day
      UNION ALL SELECT 'clinic_score', count(*) FROM clinic_score
      UNION ALL SELECT 'region_month', count(*) FROM region_month) counted;
