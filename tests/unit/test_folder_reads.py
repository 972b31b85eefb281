"""A folder where a file is expected: refused like any unreadable file, never an internal
error, and no file descriptor left open."""

from __future__ import annotations

import os

import pytest
from pygls.exceptions import JsonRpcException

from gemini_chat import files, handlers, protocol, tools
from gemini_chat.context import ContextFiles

from .core_fakes import FakeDaemon, Rig


@pytest.fixture
def rig(rig: Rig) -> Rig:
    """A chat service whose folder holds a sub-folder `src` and a folder named GEMINI.md."""
    (rig.ws.root / "src").mkdir()
    (rig.ws.root / "GEMINI.md").mkdir()
    return rig


def open_descriptors() -> int:
    """How many file descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


async def test_read_bounded_refuses_a_folder_and_closes_it(rig: Rig) -> None:
    """read_bounded of a folder raises FileRefused saying it is not a regular file, and every
    descriptor it opened is closed again."""
    before = open_descriptors()
    for _ in range(5):
        with pytest.raises(files.FileRefused, match="src is not a regular file"):
            files.read_bounded(rig.ws.root / "src", 100, "path")
    assert open_descriptors() == before


async def test_read_file_of_a_folder_tells_the_model(rig: Rig) -> None:
    """The model asking read_file for a folder is told it is not a regular file."""
    result = tools.run(rig.ws, "read_file", {"path": "src"})
    assert result.response == {"error": "src is not a regular file"}


async def test_a_folder_named_like_the_context_file_gives_no_context(rig: Rig) -> None:
    """A directory called GEMINI.md is not a context file: no context, no exception."""
    assert ContextFiles().read(rig.ws.root, "GEMINI.md") is None


async def test_a_folder_attachment_is_invalid_params(rig: Rig) -> None:
    """Attaching a directory is -32602 naming the attachment, not an internal error."""
    daemon = FakeDaemon(rig)
    uri = (rig.ws.root / "src").as_uri()
    params = {"message": "x", "attachments": [{"uri": uri}]}
    with pytest.raises(JsonRpcException) as info:
        await handlers.HANDLERS[protocol.CHAT](daemon, params)
    assert info.value.code == protocol.INVALID_PARAMS
    assert info.value.data == {"reason": "invalidParams", "field": "attachments.0.uri"}
