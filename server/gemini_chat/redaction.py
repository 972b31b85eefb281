"""Secrets in known formats, found and masked before text leaves the machine.

Pure: no I/O, no pygls, no httpx. Each rule is one credential format with a fixed shape
(`AKIA` + 16, `ghp_` + 36, a `-----BEGIN ... PRIVATE KEY-----` block...). All rules run as one
RE2 pattern: RE2 scans in linear time, about 1.3 ns a byte whatever the number of rules
(Python's `re` took 10-50x longer on the same rules), and cannot backtrack badly on a 1 MB
attachment. Generic "high entropy" rules are left out on purpose: they would mask the hashes
in lock files, git SHAs and base64 images.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, cast

MARK = "[REDACTED:"
"""How a masked secret starts; a span that starts with it is never masked again."""

_TOKEN = "A-Za-z0-9_-"
_B = rf"(?:^|[^{_TOKEN}])"
"""A token starts here. RE2 has no look-behind, so the boundary character is matched too."""
_E = rf"(?:[^{_TOKEN}]|$)"
_KEY_TYPE = r"(?:RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP |SSH2 ENCRYPTED )?"
_NL = r"(?:\s|\\n)"
"""Between the lines of a key: whitespace, or `\\n` when the key sits in a JSON string."""
_PEM_LINE = (
    rf"{_NL}+(?:[A-Za-z0-9+/]{{16,}}={{0,2}}|[A-Za-z0-9+/]*={{1,2}}|=[A-Za-z0-9+/]{{4}}"
    r"|(?:Proc-Type|DEK-Info|Comment|Version):[^\n]*)"
)
"""One line of key material (base64, a PEM or PGP header, a PGP checksum)."""
_END = r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"

RULES: tuple[tuple[str, str], ...] = (
    # (kind, pattern): the pattern's group `s` is what gets masked.
    (
        "private-key",
        # The block to its END line; a truncated paste, to the end of its key material.
        rf"(?P<s>-----BEGIN {_KEY_TYPE}PRIVATE KEY(?: BLOCK)?-----(?:{_PEM_LINE})+"
        rf"(?:(?:{_NL}+[A-Za-z0-9+/]{{1,15}})?{_NL}*{_END})?)",
    ),
    ("aws-access-key", rf"{_B}(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{{16}}){_E}"),
    (
        "aws-secret-key",
        r"(?i:aws_?secret_?(?:access_?)?key)[\"']?[ \t]*[:=][ \t]*[\"']?"
        r"(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
    ),
    ("github-token", rf"{_B}(?P<s>gh[pousr]_[A-Za-z0-9]{{36,}}){_E}"),
    ("github-token", rf"{_B}(?P<s>github_pat_[A-Za-z0-9_]{{82}}){_E}"),
    ("gitlab-token", rf"{_B}(?P<s>glpat-[{_TOKEN}]{{20,}})"),
    ("google-api-key", rf"{_B}(?P<s>AIza[{_TOKEN}]{{35}}){_E}"),
    ("google-oauth-token", rf"{_B}(?P<s>ya29\.[{_TOKEN}]{{20,}})"),
    ("slack-token", rf"{_B}(?P<s>(?:xox[abposre]|xapp)-[A-Za-z0-9-]{{10,}})"),
    (
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9/_-]{20,})",
    ),
    (
        "openai-api-key",
        rf"{_B}(?P<s>sk-(?:proj-|svcacct-|admin-)?[{_TOKEN}]{{20,}}T3BlbkFJ[{_TOKEN}]{{20,}})",
    ),
    ("openai-api-key", rf"{_B}(?P<s>sk-(?:proj|svcacct|admin)-[{_TOKEN}]{{40,}})"),
    ("anthropic-api-key", rf"{_B}(?P<s>sk-ant-[a-z]+[0-9][0-9]-[{_TOKEN}]{{80,}})"),
    ("stripe-key", rf"{_B}(?P<s>[sr]k_(?:live|test)_[A-Za-z0-9]{{20,}}){_E}"),
    ("npm-token", rf"{_B}(?P<s>npm_[A-Za-z0-9]{{36}}){_E}"),
    ("pypi-token", rf"{_B}(?P<s>pypi-AgE[{_TOKEN}]{{50,}})"),
    ("huggingface-token", rf"{_B}(?P<s>hf_[A-Za-z]{{34}}){_E}"),
    ("jwt", rf"{_B}(?P<s>eyJ[{_TOKEN}]{{10,}}\.ey[{_TOKEN}]{{10,}}\.[{_TOKEN}]*)"),
    # scheme://user:password@host: only the password is masked.
    ("password", r"://[^\s:/?#@\"'<>\[\]]*:(?P<s>[^\s/?#@\"'<>]+)@"),
    # ...;Password=...; in ADO/ODBC/JDBC connection strings; the ';' before it and no space
    # around '=' keep code (`cwd = x; pwd = cwd`) out.
    ("password", r";[ \t]*(?i:password|pwd)=(?P<s>[^;\s\"'`]+)"),
)
"""Formats as documented by their issuers, checked against gitleaks' rules."""

KINDS = tuple(dict.fromkeys(kind for kind, _ in RULES))
"""Every kind this module reports."""


class _Match(Protocol):
    @property
    def lastindex(self) -> int | None: ...
    def span(self, group: int = 0) -> tuple[int, int]: ...


class _Pattern(Protocol):
    def finditer(self, text: bytes) -> Iterator[_Match]: ...


@cache
def _pattern() -> _Pattern:
    """Every rule in one RE2 pattern, group i+1 for rule i (imported and compiled on first use,
    so a daemon that never redacts never loads RE2)."""
    import re2  # pyright: ignore[reportMissingTypeStubs]

    engine = cast(Any, re2)  # the bindings ship no types; _Pattern says what is used
    options = engine.Options()
    options.encoding = engine.Options.Encoding.LATIN1  # bytes in, spans on ASCII boundaries
    joined = "|".join(f"(?:{pattern})" for _, pattern in RULES).replace("(?P<s>", "(")
    return cast(_Pattern, engine.compile(joined.encode(), options))


_MARK_BYTES = MARK.encode()
_PLACEHOLDER_PASSWORD = re.compile(
    rb"(?i)(?:my|your|the)?[_-]?(?:pass(?:word|wd)?|pwd|secret)|changeme|bar|[x*.]+"
    rb"|\$\{?[\w.-]+\}?|<[^>]*>|\{[^}]*\}|%s"
)
"""Passwords that documentation writes (`user:pass@`, `Password=myPassword`)."""


def _placeholder(kind: str, value: bytes) -> bool:
    """A documented sample or a stand-in, not a secret: `AKIA...EXAMPLE`, `ghp_xxxx...`."""
    if kind == "password":
        return _PLACEHOLDER_PASSWORD.fullmatch(value) is not None
    return b"EXAMPLE" in value or len(set(value)) < 8


def _spans(data: bytes) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each secret in `data`, in order."""
    spans: list[tuple[int, int, str]] = []
    for m in _pattern().finditer(data):
        group = m.lastindex  # one group per rule, and a match sets only its rule's group
        if group is None:
            continue
        kind = RULES[group - 1][0]
        start, end = m.span(group)
        value = data[start:end]
        if value and not value.startswith(_MARK_BYTES) and not _placeholder(kind, value):
            spans.append((start, end, _token_kind(value) if kind == "password" else kind))
    return spans


def _token_kind(password: bytes) -> str:
    """A token used as the password of a URL (a GitHub token in a clone URL) is reported as
    what it is."""
    for m in _pattern().finditer(password):
        group = m.lastindex
        if group is not None and m.span(group) == (0, len(password)):
            return RULES[group - 1][0]
    return "password"


_Marks = list[tuple[int, str]]
"""Where each mask put so far starts in the current bytes, and its kind, in order."""


def _apply(data: bytes, spans: list[tuple[int, int, str]], marks: _Marks) -> tuple[bytes, _Marks]:
    """`data` with `spans` masked, and the marks moved to where they now are (a mark inside a
    new span is gone: that span's mask covers it)."""
    parts: list[bytes] = []
    moved: _Marks = []
    old = iter(marks)
    mark = next(old, None)
    pos = size = 0  # read up to pos in data; written size bytes
    for start, end, kind in [*spans, (len(data), len(data), "")]:
        while mark is not None and mark[0] < end:
            if mark[0] < start:
                moved.append((size + mark[0] - pos, mark[1]))
            mark = next(old, None)
        parts.append(data[pos:start])
        size += start - pos
        if kind:
            mask = f"{MARK}{kind}]".encode()
            moved.append((size, kind))
            parts.append(mask)
            size += len(mask)
        pos = end
    return b"".join(parts), moved


def redact_secrets(text: str) -> tuple[str, list[str]]:
    """`text` with every secret in a known format replaced by `[REDACTED:<kind>]`, and the
    kinds found, in order of appearance (one per secret). Never raises; stable on its output."""
    if len(text) < 6:  # shorter than any format (`;pwd=x`, `://:x@`)
        return text, []
    # surrogatepass: any str encodes, and decodes back unchanged. Every span starts and ends
    # next to an ASCII character (or an end), so cutting there never splits a character.
    data = text.encode("utf-8", "surrogatepass")
    marks: _Marks = []
    # A mask changes its neighbours' boundaries: `-----END ...-----AKIA...` holds no AWS key
    # until the block before it is masked. Scan again until nothing new is found; each pass
    # masks at least one byte that no mask held, so this ends.
    while spans := _spans(data):
        data, marks = _apply(data, spans, marks)
    if not marks:
        return text, []
    return data.decode("utf-8", "surrogatepass"), [kind for _, kind in marks]


MESSAGE = "message"
CONTEXT_FILE = "contextFile"


def attachment(index: int) -> str:
    """The `where` of the index-th attachment."""
    return f"attachments.{index}"


def tool(name: str) -> str:
    """The `where` of a tool's result."""
    return f"tool:{name}"


@dataclass
class Redactions:
    """The secrets masked across the parts of one turn: the protocol's `redacted` list.

    With `enabled` false (the `redactSecrets` setting off) text passes unchanged."""

    enabled: bool = True
    found: list[dict[str, str]] = field(default_factory=list[dict[str, str]])

    def mask(
        self, text: str, where: str, *, cache: dict[str, tuple[str, list[str]]] | None = None
    ) -> str:
        """`text` masked; each kind found there is listed once for `where`.

        With `cache`, a text seen before is not scanned again (the context file, the same on
        every turn until it changes)."""
        if not self.enabled:
            return text
        known = cache.get(text) if cache is not None else None
        masked, kinds = known if known is not None else redact_secrets(text)
        if cache is not None and known is None:
            if len(cache) >= 16:
                cache.clear()
            cache[text] = (masked, kinds)
        for kind in dict.fromkeys(kinds):
            entry = {"kind": kind, "where": where}
            if entry not in self.found:
                self.found.append(entry)
        return masked


_RUN = re.compile(r"[A-Za-z0-9]{16,}")


def looks_random(value: str) -> bool:
    """Whether `value` holds a long run of letters mixed with digits: likely a credential of a
    format no rule knows, which a warning should not echo. Model names, paths and URLs are
    made of short words (`gemini-2.5-flash-preview-05-20`) and pass."""
    return any(
        any(c.isdigit() for c in run) and any(c.isalpha() for c in run)
        for run in _RUN.findall(value)
    )


def mask_parts(
    redactions: Redactions, parts: list[dict[str, object]], sources: list[str]
) -> list[dict[str, object]]:
    """Text parts masked (inline data is left alone), each named by its source."""
    out: list[dict[str, object]] = []
    for part, where in zip(parts, sources, strict=True):
        text = part.get("text")
        out.append(
            {**part, "text": redactions.mask(text, where)} if isinstance(text, str) else part
        )
    return out
