"""Summaries are declared, not wired by hand: one frozen declaration each, ordered by
their declared dependencies. Builds and commands take their choices from here."""
from etl.summaries.registry import SUMMARIES, Summary, UnknownSummary, ordered

__all__ = ["SUMMARIES", "Summary", "UnknownSummary", "ordered"]
