"""What a request from Slack must pass before anything acts on it: its signature, its shape, and
where its answers may go.

HTTP mode runs these checks in front of Bolt (bot/web.py), on the payload as Bolt has read it;
the app itself runs the signature check as its first middleware, so every other way into it
(the shell, tests, other adapters) refuses what cannot be verified with a plain 401 rather than
an error. A request HTTP mode's door has verified carries a mark, set by the door alone, and
is not verified twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

logger = logging.getLogger(__name__)

# Unix seconds as plain ASCII digits; anything else ("abc", "0x10", "1e9", "") is unverifiable.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Slack's v0 scheme: a hex HMAC-SHA256. hmac.compare_digest raises on non-ASCII text, so the
# form is checked before any comparison.
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")

# Where Slack's response URLs live; anything else is refused unless configured explicitly.
SLACK_RESPONSE_URL_BASE = "https://hooks.slack.com/"


class RawBodySignatureVerifier(SignatureVerifier):
    """Slack's signature check over the body's bytes exactly as they arrived.

    slack_sdk's verifier decodes bytes as UTF-8 first (and raises on anything else) and turns
    a timestamp that is not an integer into an exception; here both are simply "not valid".
    """

    def is_valid(self, body: str | bytes, timestamp: str | None, signature: str | None) -> bool:
        if timestamp is None or signature is None:
            return False
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return False
        return super().is_valid(body, timestamp, signature)

    def generate_signature(self, *, timestamp: str, body: str | bytes) -> str | None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        message = b"v0:" + timestamp.encode("ascii") + b":" + raw
        digest = hmac.new(self.signing_secret.encode("utf-8"), message, hashlib.sha256)
        return f"v0={digest.hexdigest()}"


def first_header(headers: Mapping[str, str | Sequence[str]], name: str) -> str | None:
    value = headers.get(name)
    if value is None or isinstance(value, str):
        return value
    return value[0] if value else None


def is_signed(
    verifier: SignatureVerifier | None,
    headers: Mapping[str, str | Sequence[str]],
    body: str | bytes,
) -> bool:
    """True only when the request carries a current, valid Slack signature (headers lower-case)."""
    if verifier is None:
        return False
    return verifier.is_valid(
        body,
        first_header(headers, "x-slack-request-timestamp"),
        first_header(headers, "x-slack-signature"),
    )


def verifier_for(signing_secret: str | None) -> RawBodySignatureVerifier | None:
    """The verifier for a signing secret; None when there is none (then nothing verifies)."""
    return RawBodySignatureVerifier(signing_secret) if signing_secret else None


def refusal(status: int, error: str) -> BoltResponse:
    return BoltResponse(
        status=status,
        body=json.dumps({"error": error}),
        headers={"content-type": "application/json;charset=utf-8"},
    )


def unverified() -> BoltResponse:
    return refusal(401, "invalid request")


# Set in a request's context by HTTP mode's door (bot/web.py) once it has checked the signature.
SIGNATURE_CHECKED = "skillgap_signature_checked"


class StrictRequestVerification(AsyncMiddleware):
    """The app's first check: a request without a valid signature stops here with a 401.

    Takes the place of Bolt's own verification middleware (given to AsyncApp as
    `before_authorize`, with `request_verification_enabled=False`), which lets an unparsable
    timestamp raise, and so reach the error handler, instead of refusing it.
    """

    def __init__(self, signing_secret: str | None) -> None:
        self.verifier = verifier_for(signing_secret)

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        # Socket Mode requests arrive over Slack's authenticated WebSocket, unsigned; HTTP mode's
        # door has checked this very request's signature already (the flag is set by our code
        # only: Bolt fills a context from fixed field names, never from what a body names).
        if (
            req.mode == "socket_mode"
            or req.context.get(SIGNATURE_CHECKED) is True
            or is_signed(self.verifier, req.headers, req.raw_body)
        ):
            return await next()
        logger.info("refused a request without a valid Slack signature")
        return unverified()


class MalformedBody(ValueError):
    """A signed body that is not a Slack payload Bolt can read."""


# Fields Bolt reads as objects (or lists of objects) wherever they appear.
_OBJECT_FIELDS = ("view", "container", "function_data", "workflow_step")
_LIST_OF_OBJECT_FIELDS = ("actions", "authorizations", "response_urls")
# Fields that are an id or an object with an id ("user": "U1" in an event, {"id": …} elsewhere).
_ID_OR_OBJECT_FIELDS = ("user", "channel", "team", "enterprise")
# Objects Bolt looks inside for the same fields, one level after another.
_NESTED_FIELDS = ("event", "message", "previous_message", "item", "assistant_thread")
_TEXT_FIELDS = ("type", "response_url")
# Slack nests an event's message at most a few levels deep; Bolt recurses without a limit.
_MAX_NESTING = 4
_VIEW_PAYLOADS = ("view_submission", "view_closed")
# Payloads whose first action Bolt reads without looking.
_ACTION_PAYLOADS = ("block_actions", "interactive_message")


def check_payload(body: object) -> None:
    """Raise MalformedBody, saying what is wrong, unless Bolt can act on the payload it read:
    an object whose fields Bolt indexes without looking have the shapes it expects."""
    if not isinstance(body, dict):
        raise MalformedBody("the payload is not a JSON object")
    _check_shape(body)


def _check_shape(body: dict[str, Any]) -> None:
    _check_fields(body)
    kind = body.get("type")
    if kind in _VIEW_PAYLOADS and not isinstance((body.get("view") or {}).get("type"), str):
        raise MalformedBody("the view has no type")
    if len(body.get("response_urls") or []) > 1:
        # Bolt 1.30 fails to read these (it logs through a context not yet given a logger).
        raise MalformedBody("more than one response_url")
    has_actions = "actions" in body or "callback_id" in body
    if kind in _ACTION_PAYLOADS and has_actions and not body.get("actions"):
        raise MalformedBody("the actions are missing")
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedBody("the event has no type")


def _check_fields(body: dict[str, Any], where: str = "", depth: int = 0) -> None:
    if depth > _MAX_NESTING:
        raise MalformedBody(f"{where or 'the payload '}is nested too deeply")
    for name in _OBJECT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise MalformedBody(f"{where}{name} is not an object")
    for name in _ID_OR_OBJECT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str | dict):
            raise MalformedBody(f"{where}{name} is neither an id nor an object")
    for name in _LIST_OF_OBJECT_FIELDS:
        value = body.get(name)
        if name in body and not (
            isinstance(value, list) and all(isinstance(item, dict) for item in value)
        ):
            raise MalformedBody(f"{where}{name} is not a list of objects")
    for name in _TEXT_FIELDS:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise MalformedBody(f"{where}{name} is not text")
    for name in _NESTED_FIELDS:
        value = body.get(name)
        if value is not None:
            if not isinstance(value, dict):
                raise MalformedBody(f"{where}{name} is not an object")
            _check_fields(value, f"{where}{name}: ", depth + 1)


def is_allowed_response_url(url: str, extra_base: str | None = None) -> bool:
    """True for Slack's own response URLs, and for URLs under `extra_base` (the local stub the
    tests and the shell configure); an answer is never posted anywhere else."""
    return any(
        _under(url, base) for base in (SLACK_RESPONSE_URL_BASE, extra_base) if base is not None
    )


def _under(url: str, base: str) -> bool:
    try:
        target, allowed = urlsplit(url), urlsplit(base)
        same_port = target.port == allowed.port
    except ValueError:  # a port that is not a number
        return False
    return (
        target.scheme.lower() == allowed.scheme.lower()
        and target.username is None
        and target.password is None
        and (target.hostname or "") == (allowed.hostname or "").lower()
        and same_port
        and target.path.startswith(allowed.path or "/")
    )
