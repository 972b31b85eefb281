"""The benchmark runner works end to end in its --quick size (no timing is asserted)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

EXPECTED = {
    "turn_daemon",
    "turn_direct",
    "turn_sdk",
    "turn_added",
    "turn_sdk_ratio",
    "first_delta",
    "commit_ratio",
    "start",
    "rss_idle",
    "rss_loaded",
    "parallel",
    "cancel",
    "cancel_stream",
}


@pytest.mark.timeout(300)
def test_quick_bench_runs_and_writes_every_metric(tmp_path: Path) -> None:
    """`python -m bench --quick` exits 0, prints the table and writes every metric as JSON."""
    out = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"results: {out}" in run.stdout
    assert "measurement" in run.stdout
    data = json.loads(out.read_text())
    metrics = data["metrics"]
    assert set(metrics) >= EXPECTED
    for key, metric in metrics.items():
        assert math.isfinite(metric["value"]), key
        assert metric["value"] > 0, key
        assert metric["ok"] in (True, False, None), key
    assert data["meta"]["quick"] is True
