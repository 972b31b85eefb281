"""A minimal terminal for unit tests: what a screen shows after a stream of output."""

from __future__ import annotations

import re

CONTROL = re.compile(r"\x1b\[(\d*)([A-Za-z])")


def render(raw: str) -> list[str]:
    """The lines a terminal shows for `raw` (colours dropped): newline, carriage return,
    backspace, cursor up (`ESC[nA`), erase to the end of the screen (`ESC[J`) or line (`ESC[K`)."""
    lines: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(raw):
        if match := CONTROL.match(raw, i):
            count, code = int(match.group(1) or 1), match.group(2)
            if code == "A":
                row = max(0, row - count)
            elif code == "J":
                del lines[row][col:]
                del lines[row + 1 :]
            elif code == "K":
                del lines[row][col:]
            i = match.end()
            continue
        ch = raw[i]
        i += 1
        if ch == "\n":
            row, col = row + 1, 0
            while len(lines) <= row:
                lines.append([])
        elif ch == "\r":
            col = 0
        elif ch == "\b":
            col = max(0, col - 1)
        else:
            line = lines[row]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    return ["".join(line).rstrip() for line in lines]
