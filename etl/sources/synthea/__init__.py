"""Importing Synthea CSV exports into the raw ``emr_*`` tables (docs/synthea.md).

The public API is :func:`import_synthea`, the :class:`ImportReport` it returns, and the
:class:`SyntheaImportError` it raises before writing anything when an export cannot be
imported.
"""
from etl.sources.synthea.importer import import_synthea
from etl.sources.synthea.report import ImportReport, Rejection, SyntheaImportError

__all__ = ["ImportReport", "Rejection", "SyntheaImportError", "import_synthea"]
