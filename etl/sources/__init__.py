"""Raw data in: the synthetic generator (``generate_emr``), the Synthea importer
(``import_synthea``) and the data-quality report on the raw tables (``check_emr``)."""
