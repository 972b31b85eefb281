"""The bench's report logic on fixed numbers: statistics, verdicts, tables and the JSON file.

The benchmarks themselves do not run here (a real run is `make bench`, or
`uv run python -m bench --quick` for a short one); this keeps the unit suite fast while the
code that turns measurements into the published table stays tested.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from bench.__main__ import QUICK, STEPS, Sizes, parse_args
from bench.common import Metric, Section, at_most, stats_ms
from bench.report import markdown_table, text_table, write_json


def sections() -> list[Section]:
    """Two sections whose rows cover every unit format and every verdict."""
    turn = Metric("turn", "one turn", 1.23456, "ms", p90=12.5, target="<= 5 ms", ok=True)
    rss = Metric("rss", "idle memory", 48.04, "MB", target="<= 40 MB", ok=False, note="GC")
    ratio = Metric("ratio", "vs the SDK", 0.46, "x", note="lower is better")
    starts = Metric("starts", "starts", 3, "runs")
    return [
        Section("turns", [turn, ratio], {"samples": [0.001, 0.002]}),
        Section("memory", [rss, starts]),
    ]


def test_stats_are_median_and_nearest_rank_p90_in_ms() -> None:
    """p50 is the median and p90 the nearest-rank 90th percentile, seconds turned into ms."""
    twenty = [i / 1000 for i in range(20, 0, -1)]  # 20..1 ms, unsorted
    stats = stats_ms(twenty)
    assert (stats.p50, stats.p90, stats.n) == pytest.approx((10.5, 18.0, 20))
    assert stats_ms([0.002]).p90 == pytest.approx(2.0)
    with pytest.raises(ValueError, match="no samples"):
        stats_ms([])


def test_at_most_is_an_inclusive_upper_bound() -> None:
    """A value equal to the target passes; one above it misses."""
    assert at_most(5.0, 5.0)
    assert not at_most(5.01, 5.0)


def test_text_table_formats_units_and_verdicts() -> None:
    """Columns align; ms, MB, x and other units print as documented; ok True is pass, False
    MISS, None nothing; a note follows the verdict or stands alone."""
    lines = text_table(sections()).splitlines()
    assert lines[0].split() == ["measurement", "p50", "p90", "target", "result"]
    assert set(lines[1]) == {"-", " "}
    assert [line.split("  ")[0] for line in lines[2:]] == [
        "one turn",
        "vs the SDK",
        "idle memory",
        "starts",
    ]
    cells = [[c.strip() for c in line.split("  ") if c.strip()] for line in lines[2:]]
    assert cells == [
        ["one turn", "1.235 ms", "12.5 ms", "<= 5 ms", "pass"],
        ["vs the SDK", "0.5x", "lower is better"],
        ["idle memory", "48.0 MB", "<= 40 MB", "MISS (GC)"],
        ["starts", "3 runs"],
    ]
    header_columns = [lines[0].index(h) for h in ("p50", "p90", "target", "result")]
    assert lines[2].index("1.235 ms") == header_columns[0]
    assert lines[4].index("MISS (GC)") == header_columns[3]


def test_markdown_table_has_the_same_rows() -> None:
    """The Markdown table is a header, a separator and one row per metric, same cells."""
    lines = markdown_table(sections()).splitlines()
    assert lines[0] == "| measurement | p50 | p90 | target | result |"
    assert lines[1] == "| --- | --- | --- | --- | --- |"
    assert lines[2] == "| one turn | 1.235 ms | 12.5 ms | <= 5 ms | pass |"
    assert lines[4] == "| idle memory | 48.0 MB |  | <= 40 MB | MISS (GC) |"
    assert len(lines) == 6


def test_json_has_meta_every_metric_and_details(tmp_path: Path) -> None:
    """The JSON file holds meta, every metric by key with all its fields, details by section."""
    out = tmp_path / "nested" / "results.json"
    write_json(out, {"quick": True}, sections())
    data = json.loads(out.read_text())
    assert data["meta"] == {"quick": True}
    assert list(data["metrics"]) == ["turn", "ratio", "rss", "starts"]
    assert data["metrics"]["rss"] == {
        "key": "rss",
        "label": "idle memory",
        "value": 48.04,
        "unit": "MB",
        "p90": None,
        "target": "<= 40 MB",
        "ok": False,
        "note": "GC",
    }
    assert data["details"] == {"turns": {"samples": [0.001, 0.002]}, "memory": {}}


def test_command_line_names_every_step_and_quick_is_smaller() -> None:
    """--only accepts each measurement and nothing else; --quick does less of everything."""
    assert parse_args(["--only", *STEPS]).only == list(STEPS)
    with pytest.raises(SystemExit):
        parse_args(["--only", "nonsense"])
    full = asdict(Sizes())
    for name, quick in asdict(QUICK).items():
        size = full[name]
        assert (max(quick) <= max(size)) if isinstance(quick, tuple) else quick <= size, name
