-- region_month (sqlite): clinics, visits, hours, cost, outliers and change per month and region
-- Written by `manage.py compile_sql`; do not edit.
WITH month_days AS 
(SELECT date(clinic_day.day, 'start of month') AS month, clinic_day.region_id AS region_id, clinic_day.clinic_id AS clinic_id, clinic_day.nr_visits AS nr_visits, clinic_day.nr_no_show AS nr_no_show, CAST(round(clinic_day.rostered_hours * 10000) AS BIGINT) AS hour_units, CAST(round(clinic_day.staff_cost * 100) AS BIGINT) AS cost_cents 
FROM clinic_day), 
month_totals AS 
(SELECT month_days.month AS month, month_days.region_id AS region_id, count(DISTINCT month_days.clinic_id) AS nr_clinics, coalesce(sum(month_days.nr_visits), 0) AS nr_visits, coalesce(sum(month_days.nr_no_show), 0) AS nr_no_show, coalesce(sum(month_days.hour_units), 0) AS hour_units, coalesce(sum(month_days.cost_cents), 0) AS cost_cents 
FROM month_days GROUP BY month_days.month, month_days.region_id), 
outlier_scores AS 
(SELECT date(clinic_score.day, 'start of month') AS month, clinic_score.region_id AS region_id, clinic_score.is_outlier AS is_outlier 
FROM clinic_score 
WHERE clinic_score.is_outlier = 1), 
month_outliers AS 
(SELECT outlier_scores.month AS month, outlier_scores.region_id AS region_id, count(*) AS outlier_days 
FROM outlier_scores GROUP BY outlier_scores.month, outlier_scores.region_id), 
patients_of_months AS 
(SELECT region_month_patients.month AS month, region_month_patients.region_id AS region_id, region_month_patients.nr_patients AS nr_patients 
FROM region_month_patients), 
month_patients AS 
(SELECT patients_of_months.month AS month, patients_of_months.region_id AS region_id, coalesce(sum(patients_of_months.nr_patients), 0) AS nr_patients 
FROM patients_of_months GROUP BY patients_of_months.month, patients_of_months.region_id), 
matched AS 
(SELECT stacked_inputs.month AS month, stacked_inputs.region_id AS region_id, coalesce(max(stacked_inputs.nr_clinics), 0) AS nr_clinics, coalesce(max(stacked_inputs.nr_visits), 0) AS nr_visits, coalesce(max(stacked_inputs.nr_no_show), 0) AS nr_no_show, coalesce(max(stacked_inputs.hour_units), 0) AS hour_units, coalesce(max(stacked_inputs.cost_cents), 0) AS cost_cents, coalesce(max(stacked_inputs.outlier_days), 0) AS outlier_days, coalesce(max(stacked_inputs.nr_patients), 0) AS nr_patients 
FROM (SELECT month_totals.month AS month, month_totals.region_id AS region_id, month_totals.nr_clinics AS nr_clinics, month_totals.nr_visits AS nr_visits, month_totals.nr_no_show AS nr_no_show, month_totals.hour_units AS hour_units, month_totals.cost_cents AS cost_cents, CAST(NULL AS INTEGER) AS outlier_days, CAST(NULL AS INTEGER) AS nr_patients, 1 AS keyed 
FROM month_totals UNION ALL SELECT month_outliers.month AS month, month_outliers.region_id AS region_id, CAST(NULL AS INTEGER) AS nr_clinics, CAST(NULL AS INTEGER) AS nr_visits, CAST(NULL AS INTEGER) AS nr_no_show, CAST(NULL AS INTEGER) AS hour_units, CAST(NULL AS INTEGER) AS cost_cents, month_outliers.outlier_days AS outlier_days, CAST(NULL AS INTEGER) AS nr_patients, 0 AS keyed 
FROM month_outliers UNION ALL SELECT month_patients.month AS month, month_patients.region_id AS region_id, CAST(NULL AS INTEGER) AS nr_clinics, CAST(NULL AS INTEGER) AS nr_visits, CAST(NULL AS INTEGER) AS nr_no_show, CAST(NULL AS INTEGER) AS hour_units, CAST(NULL AS INTEGER) AS cost_cents, CAST(NULL AS INTEGER) AS outlier_days, month_patients.nr_patients AS nr_patients, 0 AS keyed 
FROM month_patients) AS stacked_inputs GROUP BY stacked_inputs.month, stacked_inputs.region_id 
HAVING max(stacked_inputs.keyed) = 1), 
rounded AS 
(SELECT matched.month AS month, matched.region_id AS region_id, matched.nr_clinics AS nr_clinics, matched.nr_visits AS nr_visits, matched.nr_no_show AS nr_no_show, matched.hour_units AS hour_units, matched.cost_cents AS cost_cents, matched.outlier_days AS outlier_days, matched.nr_patients AS nr_patients, matched.hour_units AS rostered_hours_units, matched.cost_cents AS staff_cost_units 
FROM matched), 
measured AS 
(SELECT rounded.month AS month, rounded.region_id AS region_id, rounded.nr_clinics AS nr_clinics, rounded.nr_visits AS nr_visits, rounded.nr_no_show AS nr_no_show, rounded.hour_units AS hour_units, rounded.cost_cents AS cost_cents, rounded.outlier_days AS outlier_days, rounded.nr_patients AS nr_patients, ((rounded.rostered_hours_units) / 10000.0) AS rostered_hours, ((rounded.staff_cost_units) / 100.0) AS staff_cost, CASE WHEN (rounded.rostered_hours_units > 0) THEN (((CAST(rounded.nr_visits * 10000 AS BIGINT) / CAST(rounded.rostered_hours_units AS BIGINT)) * 10000 + CAST((CAST(rounded.nr_visits * 10000 AS BIGINT) % CAST(rounded.rostered_hours_units AS BIGINT)) * 10000 AS BIGINT) / CAST(rounded.rostered_hours_units AS BIGINT) + CASE WHEN (2 * (CAST((CAST(rounded.nr_visits * 10000 AS BIGINT) % CAST(rounded.rostered_hours_units AS BIGINT)) * 10000 AS BIGINT) % CAST(rounded.rostered_hours_units AS BIGINT)) >= CAST(rounded.rostered_hours_units AS BIGINT)) THEN 1 ELSE 0 END) / 10000.0) END AS visits_per_hour, CASE WHEN (rounded.nr_patients > 0) THEN (((CAST(rounded.staff_cost_units AS BIGINT) / CAST(rounded.nr_patients * 100 AS BIGINT)) * 10000 + CAST((CAST(rounded.staff_cost_units AS BIGINT) % CAST(rounded.nr_patients * 100 AS BIGINT)) * 10000 AS BIGINT) / CAST(rounded.nr_patients * 100 AS BIGINT) + CASE WHEN (2 * (CAST((CAST(rounded.staff_cost_units AS BIGINT) % CAST(rounded.nr_patients * 100 AS BIGINT)) * 10000 AS BIGINT) % CAST(rounded.nr_patients * 100 AS BIGINT)) >= CAST(rounded.nr_patients * 100 AS BIGINT)) THEN 1 ELSE 0 END) / 10000.0) END AS cost_per_patient 
FROM rounded), 
windowed AS 
(SELECT measured.month AS month, measured.region_id AS region_id, measured.nr_clinics AS nr_clinics, measured.nr_visits AS nr_visits, measured.nr_no_show AS nr_no_show, measured.hour_units AS hour_units, measured.cost_cents AS cost_cents, measured.outlier_days AS outlier_days, measured.nr_patients AS nr_patients, measured.rostered_hours AS rostered_hours, measured.staff_cost AS staff_cost, measured.visits_per_hour AS visits_per_hour, measured.cost_per_patient AS cost_per_patient, CASE WHEN (lag((CAST(strftime('%Y', measured.month) AS INTEGER) * 12 + CAST(strftime('%m', measured.month) AS INTEGER))) OVER (PARTITION BY measured.region_id ORDER BY (CAST(strftime('%Y', measured.month) AS INTEGER) * 12 + CAST(strftime('%m', measured.month) AS INTEGER))) = (CAST(strftime('%Y', measured.month) AS INTEGER) * 12 + CAST(strftime('%m', measured.month) AS INTEGER)) - 1) THEN lag(measured.nr_visits) OVER (PARTITION BY measured.region_id ORDER BY (CAST(strftime('%Y', measured.month) AS INTEGER) * 12 + CAST(strftime('%m', measured.month) AS INTEGER))) END AS previous_visits 
FROM measured)
 SELECT windowed.month, windowed.region_id, windowed.nr_clinics, windowed.nr_visits, windowed.nr_no_show, windowed.nr_patients, windowed.rostered_hours, windowed.staff_cost, windowed.visits_per_hour, windowed.cost_per_patient, windowed.outlier_days, CASE WHEN (windowed.previous_visits > 0) THEN CASE WHEN (windowed.nr_visits >= windowed.previous_visits) THEN ((CAST((windowed.nr_visits - windowed.previous_visits) * 10000 AS BIGINT) / CAST(windowed.previous_visits AS BIGINT) + CASE WHEN (2 * (CAST((windowed.nr_visits - windowed.previous_visits) * 10000 AS BIGINT) % CAST(windowed.previous_visits AS BIGINT)) >= CAST(windowed.previous_visits AS BIGINT)) THEN 1 ELSE 0 END) / 10000.0) ELSE -((CAST((windowed.previous_visits - windowed.nr_visits) * 10000 AS BIGINT) / CAST(windowed.previous_visits AS BIGINT) + CASE WHEN (2 * (CAST((windowed.previous_visits - windowed.nr_visits) * 10000 AS BIGINT) % CAST(windowed.previous_visits AS BIGINT)) >= CAST(windowed.previous_visits AS BIGINT)) THEN 1 ELSE 0 END) / 10000.0) END END AS visits_change 
FROM windowed;
