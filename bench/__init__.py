"""Benchmarks of gemini-chat against the emulator on loopback; run with `python -m bench`."""
