"""The README is a short door into the project: its links work and it names every doc."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading."""
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def test_every_relative_link_resolves() -> None:
    """Each relative link of README.md names an existing file, and each #anchor a heading of
    that file."""
    for target in re.findall(r"\]\(([^)#\s]+)(#[^)\s]*)?\)", README):
        path, anchor = target
        if "://" in path:
            continue
        file = REPO / path
        assert file.exists(), f"README links to a missing {path}"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", file.read_text(), re.MULTILINE)
            assert anchor[1:] in {_anchor(h) for h in headings}, f"no heading for {path}{anchor}"


def test_it_names_every_doc_and_stays_short() -> None:
    """Every file in docs/ is linked from the README, which stays under 150 lines and shows the
    two set-up commands."""
    for doc in (REPO / "docs").glob("*.md"):
        assert f"docs/{doc.name})" in README, f"README does not name docs/{doc.name}"
    assert len(README.splitlines()) < 150
    assert "make chat" in README and "make test" in README
