"""Chart data for the pages: Chart.js configurations (pure JSON, drawn by the vendored
Chart.js) and server-drawn SVG sparklines (one per scoreboard row, no script). Both take
already suppressed values: a hidden value is a gap, never a point."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

SPARK_WIDTH, SPARK_HEIGHT = 120, 28


def number(value) -> float | None:
    return None if value is None else round(float(value), 4)


def line_chart(labels: Sequence[str], datasets: Sequence[dict], *, y_title: str = "", y2_title: str = "") -> dict:
    """A Chart.js line chart configuration; each dataset dict has ``label`` and ``data``
    (None for gaps) and may set ``yAxisID`` "y2", ``borderDash``, ``showLine``."""
    scales: dict = {"y": {"title": {"display": bool(y_title), "text": y_title}, "beginAtZero": True}}
    if any(d.get("yAxisID") == "y2" for d in datasets):
        scales["y2"] = {"position": "right", "title": {"display": bool(y2_title), "text": y2_title},
                        "beginAtZero": True, "grid": {"drawOnChartArea": False}}
    return {
        "type": "line",
        "data": {"labels": list(labels), "datasets": [
            {"spanGaps": False, "pointRadius": 2, "tension": 0, **d} for d in datasets
        ]},
        "options": {"animation": False, "responsive": True, "maintainAspectRatio": False,
                    "interaction": {"mode": "index", "intersect": False}, "scales": scales},
    }


@dataclass(frozen=True)
class Sparkline:
    segments: tuple[str, ...]   # polyline "x,y x,y ..." pieces, split at gaps
    points: tuple[tuple[str, str], ...]  # lone points between gaps, (x, y)
    low: float | None
    high: float | None
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT


def sparkline(values: Sequence[float | None]) -> Sparkline:
    """Scale ``values`` (None: a gap) into the sparkline box."""
    known = [v for v in values if v is not None]
    if not known:
        return Sparkline((), (), None, None)
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = (SPARK_WIDTH - 4) / max(len(values) - 1, 1)
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
            continue
        x = 2 + i * step
        y = SPARK_HEIGHT - 2 - (v - low) / span * (SPARK_HEIGHT - 4)
        runs[-1].append(f"{x:.1f},{y:.1f}")
    segments = tuple(" ".join(r) for r in runs if len(r) > 1)
    points = tuple(tuple(r[0].split(",")) for r in runs if len(r) == 1)
    return Sparkline(segments, points, low, high)


def sparkline_svg(line: Sparkline | None) -> str:
    """The inline SVG of a sparkline (a dash when it has no point), built in Python: the
    scoreboard draws one per row, and a template loop over their points costs more than
    the rest of the page."""
    from django.template.defaultfilters import floatformat

    if line is None or line.low is None:
        return "—"
    w, h = line.width, line.height
    parts = [f'<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
             f'aria-label="patients per hour from {floatformat(line.low, 2)} to {floatformat(line.high, 2)}">']
    parts += [f'<polyline points="{seg}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
              for seg in line.segments]
    parts += [f'<circle cx="{x}" cy="{y}" r="1.5" fill="currentColor"/>' for x, y in line.points]
    return "".join(parts) + "</svg>"
