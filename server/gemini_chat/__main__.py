"""`python -m gemini_chat`: the daemon."""

from __future__ import annotations

from .cli import main

main()
