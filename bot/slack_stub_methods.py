"""The Web API methods the Slack stub answers by default: one handler per method, in a table."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class StubRequest:
    """What a rule sees about a Web API call before the stub answers it."""

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    token: str | None
    team_id: str | None


@dataclass
class StubReply:
    """An answer a rule chooses instead of the stub's normal one."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Workspace:
    """A workspace the stub knows, found by the bot token a call carries."""

    team_id: str
    team_name: str
    bot_user_id: str
    bot_id: str
    app_id: str = "A0SKILLGAP"


class StubState(Protocol):
    """What the handlers read and change of the stub (SlackStub is one)."""

    users: dict[str, dict[str, Any]]
    channels: dict[str, dict[str, Any]]
    uploads: dict[str, bytes]
    oauth_team_id: str

    @property
    def root_url(self) -> str: ...

    def add_workspace(
        self, team_id: str, token: str, *, team_name: str | None = None
    ) -> Workspace: ...

    def next_number(self) -> int: ...

    def next_id(self, prefix: str) -> str: ...

    def next_ts(self) -> str: ...

    def issue_socket_url(self) -> str: ...


Handler = Callable[[StubState, StubRequest, Workspace], dict[str, Any]]


def dm_channel_for(user_id: str) -> str:
    """The DM channel id the stub gives a user (stable, so tests can predict it)."""
    return "D" + user_id.removeprefix("U").removeprefix("W")


def _oauth_access(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    """Exchange an OAuth code for a bot token of `oauth_team_id` (which the stub then knows)."""
    if not request.args.get("code"):
        return {"ok": False, "error": "invalid_code"}
    team_id = stub.oauth_team_id
    token = f"xoxb-installed-{team_id.lower()}-{stub.next_number()}"
    installed = stub.add_workspace(team_id, token)
    return {
        "ok": True,
        "app_id": installed.app_id,
        "authed_user": {"id": "U0INSTALLER"},
        "scope": "commands,chat:write",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": installed.bot_user_id,
        "team": {"id": team_id, "name": installed.team_name},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def _connections_open(
    stub: StubState, request: StubRequest, workspace: Workspace
) -> dict[str, Any]:
    # Only an app-level token may open a Socket Mode connection.
    if not (request.token or "").startswith("xapp-"):
        return {"ok": False, "error": "not_allowed_token_type"}
    return {"ok": True, "url": stub.issue_socket_url()}


def _auth_test(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    return {
        "ok": True,
        "url": f"https://{workspace.team_id.lower()}.slack.com/",
        "team": workspace.team_name,
        "user": "skillgap",
        "team_id": workspace.team_id,
        "user_id": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "is_enterprise_install": False,
    }


def _post_message(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    args = request.args
    channel = str(args.get("channel", ""))
    if not channel:
        return {"ok": False, "error": "channel_not_found"}
    if channel.startswith(("U", "W")):
        channel = dm_channel_for(channel)
    ts = stub.next_ts()
    message = {
        "type": "message",
        "user": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "text": args.get("text", ""),
        "blocks": args.get("blocks", []),
        "ts": ts,
    }
    return {"ok": True, "channel": channel, "ts": ts, "message": message}


def _post_ephemeral(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    if not request.args.get("channel") or not request.args.get("user"):
        return {"ok": False, "error": "invalid_arguments"}
    return {"ok": True, "message_ts": stub.next_ts()}


def _update(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    args = request.args
    return {
        "ok": True,
        "channel": args.get("channel"),
        "ts": args.get("ts"),
        "text": args.get("text", ""),
        "message": {"text": args.get("text", ""), "blocks": args.get("blocks", [])},
    }


def _delete(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    return {"ok": True, "channel": request.args.get("channel"), "ts": request.args.get("ts")}


def _view(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    view = request.args.get("view")
    if not isinstance(view, dict):
        return {"ok": False, "error": "invalid_arguments"}
    view_id = str(request.args.get("view_id") or stub.next_id("V"))
    answer_view = {**view, "id": view_id, "team_id": workspace.team_id}
    answer_view["hash"] = uuid.uuid4().hex
    return {"ok": True, "view": answer_view}


def _open_conversation(
    stub: StubState, request: StubRequest, workspace: Workspace
) -> dict[str, Any]:
    users = request.args.get("users", "")
    if isinstance(users, list):
        users = ",".join(str(user) for user in users)
    first = str(users).split(",")[0].strip()
    if not first:
        return {"ok": False, "error": "users_list_not_supplied"}
    return {"ok": True, "channel": {"id": dm_channel_for(first)}}


def _conversation_info(
    stub: StubState, request: StubRequest, workspace: Workspace
) -> dict[str, Any]:
    channel_id = str(request.args.get("channel", ""))
    info = {
        "id": channel_id,
        "name": f"channel-{channel_id.lower()}",
        "is_channel": channel_id.startswith("C"),
        "is_private": channel_id.startswith("G"),
        "is_im": channel_id.startswith("D"),
        "is_member": True,
        "is_archived": False,
    }
    info.update(stub.channels.get(channel_id, {}))
    return {"ok": True, "channel": info}


def _user_info(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    user_id = str(request.args.get("user", ""))
    user = {
        "id": user_id,
        "team_id": workspace.team_id,
        "name": f"user-{user_id.lower()}",
        "real_name": f"User {user_id}",
        "tz": "Europe/London",
        "tz_offset": 0,
        "is_bot": False,
        "deleted": False,
        "profile": {"display_name": f"user-{user_id.lower()}"},
    }
    user.update(stub.users.get(user_id, {}))
    return {"ok": True, "user": user}


def _upload_url(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    file_id = stub.next_id("F")
    return {"ok": True, "upload_url": f"{stub.root_url}/upload/{file_id}", "file_id": file_id}


def _complete_upload(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    files = request.args.get("files") or []
    if not isinstance(files, list):
        return {"ok": False, "error": "invalid_arguments"}
    completed = []
    for entry in files:
        file_id = str(entry.get("id", ""))
        if file_id not in stub.uploads:
            return {"ok": False, "error": "file_not_found"}
        completed.append(
            {"id": file_id, "title": entry.get("title", ""), "size": len(stub.uploads[file_id])}
        )
    return {"ok": True, "files": completed}


WEB_API_METHODS: dict[str, Handler] = {
    "oauth.v2.access": _oauth_access,
    "apps.connections.open": _connections_open,
    "auth.test": _auth_test,
    "chat.postMessage": _post_message,
    "chat.postEphemeral": _post_ephemeral,
    "chat.update": _update,
    "chat.delete": _delete,
    "views.publish": _view,
    "views.open": _view,
    "views.update": _view,
    "views.push": _view,
    "conversations.open": _open_conversation,
    "conversations.info": _conversation_info,
    "users.info": _user_info,
    "files.getUploadURLExternal": _upload_url,
    "files.completeUploadExternal": _complete_upload,
}


def answer_method(stub: StubState, request: StubRequest, workspace: Workspace) -> dict[str, Any]:
    """The stub's default answer to a Web API call; unknown_method for one it does not know."""
    handler = WEB_API_METHODS.get(request.method)
    if handler is None:
        return {"ok": False, "error": "unknown_method"}
    return handler(stub, request, workspace)
