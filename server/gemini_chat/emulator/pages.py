"""Paging as models.list and files.list do it: pageSize (with a default and a cap), pageToken."""

from __future__ import annotations

import base64
import re

from .errors import plain_error


def page_size(query: dict[str, str], default: int, maximum: int) -> int:
    """The page size asked for: the default when absent or not positive, at most the cap."""
    text = query.get("pageSize", "") or str(default)
    if not re.fullmatch(r"-?\d+", text):
        raise plain_error(400, f"Invalid value at 'page_size' (TYPE_INT32), \"{text}\"")
    size = int(text)
    return default if size <= 0 else min(size, maximum)


def page_offset(query: dict[str, str]) -> int:
    """Where the page starts: 0 without a token, else what the token says (400 if garbled)."""
    token = query.get("pageToken", "")
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    match = re.fullmatch(r"offset:(\d+)", text)
    if match is None:
        raise plain_error(400, "Invalid page token.")
    return int(match.group(1))


def page_token(offset: int) -> str:
    """The opaque nextPageToken for a page starting at `offset`."""
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()
