"""`/status`: the daemon, the model the next turn uses, the store, and the rate limit last met."""

from __future__ import annotations

import datetime

from .rpc import as_list, as_object
from .screen import Screen
from .session import Session
from .usage import rate_limit_text


def show_status(session: Session, screen: Screen) -> None:
    """What `gemini/status` says, one fact a line; the rate limit in words when one was met."""
    status = session.call("gemini/status", {"workspace": session.workspace})
    style = screen.style
    key = "API key set" if status.get("apiKeySet") else "no API key"
    screen.line(f"gemini-chat-server {status.get('version')} · {status.get('baseUrl')} ({key})")
    model = session.turn_model() or str(status.get("model") or "?")
    whose = "--model, this session" if session.model else "the next turn's; /model changes it"
    rows = [("model", f"{model} ({whose})"), ("store", str(status.get("dataDir") or "?"))]
    contexts = [str(c) for c in as_list(status.get("contextFiles"))]
    rows.append(("context", ", ".join(contexts) if contexts else "no context file"))
    limit = as_object(status.get("rateLimit"))
    now = datetime.datetime.now(datetime.UTC)
    met = rate_limit_text(limit, now) if limit else "none met since the daemon started"
    rows.append(("rate limit", met))
    for name, value in rows:
        screen.line(f"  {style.dim(f'{name:<11}')} {value}")
    if limit:
        screen.line(style.dim("  (the newest 429 the daemon met; the API's error said this much)"))
