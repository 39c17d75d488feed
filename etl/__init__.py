"""The EMR summaries ETL: raw EMR tables in, summary tables out (see CONTRACT in the README)."""
