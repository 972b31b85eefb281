"""Sample texts shared by tests of different layers."""

MARKDOWN_REPLY = """## Adding numbers

The function `add` returns the **sum**:

| a | b | add(a, b) |
|---|---|---|
| 1 | 2 | 3 |
| "x" | "y" | "xy" |

```python
def add(a, b):
    return a + b
```

- numbers add
- strings join
"""
"""A reply with a heading, inline code, bold, a table, a fenced code block and a list: what
the terminal client's Markdown rendering is checked on, streamed and whole."""
