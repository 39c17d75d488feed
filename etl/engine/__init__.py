"""The build engine: ``build_summaries`` (:mod:`etl.engine.service`), what to rebuild
(plan, change capture, staff snapshots), the statements it runs, publish gates, the build
lock, the run ledger and ``--status``."""
