"""`initialize` answered before pygls loads, in a real daemon: what pygls then cannot read,
and what only pygls answers."""

from __future__ import annotations

from pathlib import Path

from .raw import RawDaemon


def test_capabilities_pygls_cannot_read_keep_the_daemon_working(
    server_env: dict[str, str], workspace: Path
) -> None:
    """A nested capability of a shape lsprotocol refuses (window as a number) is answered
    early all the same; the daemon keeps the folders and the options it was given
    (gemini/status names the folder and the model from initializationOptions) and says why in
    its log."""
    d = RawDaemon(server_env, workspace, initialize=False)
    try:
        params = {
            "capabilities": {"window": 7},
            "workspaceFolders": [{"uri": workspace.as_uri(), "name": "w"}],
            "initializationOptions": {"gemini": {"model": "gemini-2.5-pro"}},
        }
        init = d.call("initialize", params)
        assert init["result"]["capabilities"]["experimental"]["geminiChat"]["streaming"] is True
        status = d.call("gemini/status", {"workspace": workspace.as_uri()})["result"]
        assert status["workspaces"] == [workspace.as_uri()]
        assert status["model"] == "gemini-2.5-pro"
        assert "keeping the folders and options only" in d.log_text()
    finally:
        d.close()


def test_params_of_other_shapes_are_answered_by_pygls(
    server_env: dict[str, str], workspace: Path
) -> None:
    """An `initialize` whose processId is a string is not answered early: pygls answers it
    InvalidParams (-32602), once, and a plain `initialize` after it works."""
    d = RawDaemon(server_env, workspace, initialize=False)
    try:
        bad = d.call("initialize", {"capabilities": {}, "processId": "twelve"})
        assert bad["error"]["code"] == -32602
        good = d.call("initialize", {"capabilities": {}})
        assert good["result"]["serverInfo"]["name"] == "gemini-chat-server"
    finally:
        d.close()
