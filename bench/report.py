"""The results table for the terminal and docs/bench.md, and the JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from .common import Metric, Section

HEADER = ("measurement", "p50", "p90", "target", "result")


def _number(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.1f}x"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "%":
        return f"{value:.2f} %"
    if unit == "ms":
        return f"{value:.3f} ms" if value < 10 else f"{value:.1f} ms"
    return f"{value:g} {unit}"


def _cells(m: Metric) -> tuple[str, str, str, str, str]:
    verdict = "" if m.ok is None else ("pass" if m.ok else "MISS")
    if m.note:
        verdict = f"{verdict} ({m.note})" if verdict else m.note
    p90 = _number(m.p90, m.unit) if m.p90 is not None else ""
    return (m.label, _number(m.value, m.unit), p90, m.target, verdict)


def rows(sections: list[Section]) -> list[tuple[str, str, str, str, str]]:
    """Every metric as table cells, sections in order."""
    return [_cells(m) for s in sections for m in s.metrics]


def text_table(sections: list[Section]) -> str:
    """An aligned plain-text table."""
    body = rows(sections)
    widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(HEADER, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    return "\n".join(lines)


def markdown_table(sections: list[Section]) -> str:
    """The same table in Markdown, for docs/bench.md and the README."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(sections)]
    return "\n".join(lines)


def write_json(path: Path, meta: dict[str, object], sections: list[Section]) -> None:
    """Write every metric and detail as JSON."""
    data = {
        "meta": meta,
        "metrics": {m.key: m.as_json() for s in sections for m in s.metrics},
        "details": {s.name: s.details for s in sections},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
