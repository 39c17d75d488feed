"""Counts in words for the lines operators read: "1 day", "2 days", "1,024 rows"."""


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and the noun in the right number."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"
