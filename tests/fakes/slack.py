"""A local Slack incoming webhook as strict as the real one, for the stall alerts' tests.

Sources: Slack's "Sending messages using incoming webhooks" and its 2016-05-17 changelog
"Improving error conditions for Incoming Webhooks" (status codes and the plain-text error
strings below), the Block Kit reference (block and text object limits), and "Rate limits"
(incoming webhooks: 1 message per second, 429 with ``Retry-After``). Where they are silent
the fake takes the stricter plausible behaviour and says so here.

- ``POST <webhook path>`` (``/services/T000/B000/XXXX`` by default; the URL is the credential, so
  there is no Authorization header). Any other path: 404 ``no_service``.
- Answers are ``text/plain`` like Slack's: 200 ``ok``; errors are the bare error string.
- The body must be a JSON object (else 400 ``invalid_payload``; non-JSON content types get 415,
  stricter: Slack also takes form-encoded ``payload=``). Top-level keys outside Slack's message
  fields are refused with ``invalid_payload`` (stricter: Slack ignores them), so a typo such as
  ``block`` cannot pass unnoticed. ``text`` must be a string when present.
- Neither a non-empty ``text`` nor ``blocks``: 400 ``no_text``.
- ``blocks``: a list of 1 to 50 blocks, else 400 ``invalid_blocks``; supported block types are
  ``header``, ``section``, ``context`` and ``divider`` (others are refused: stricter). Text objects
  are ``{"type": "plain_text" | "mrkdwn", "text": non-empty}`` with ``emoji`` (plain_text) or
  ``verbatim`` (mrkdwn) as the only extra keys. Limits: header text plain_text and at most 150
  characters; section ``text`` at most 3000 and/or ``fields`` of 1 to 10 texts of at most 2000 each
  (one of the two required); context ``elements`` 1 to 10 text objects of at most 3000; ``block_id``
  a string of at most 255, unique in the message. Any breach: 400 ``invalid_blocks``.
- Rate limiting: by default at most 1 message per rolling second (``RateLimit(1, 1.0)``); beyond it
  429 ``rate_limited`` with ``Retry-After: 1`` (``retry_after_s``). Slack always sends Retry-After,
  so the fake does too, also for a ``rate_limit`` fault without one.

Stores: ``srv.messages`` (accepted payloads, in order), ``srv.posted_to`` (their webhook paths).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from typing import Any

from .server import (
    FakeServer,
    RateLimit,
    Request,
    Response,
    Router,
    _Handler,
    serve_from_command_line,
)

WEBHOOK_PATH = "/services/T000/B000/XXXX"
MESSAGE_KEYS = {
    "text", "blocks", "attachments", "mrkdwn", "username", "icon_emoji", "icon_url", "channel",
    "thread_ts", "reply_broadcast", "unfurl_links", "unfurl_media", "link_names", "parse", "metadata",
}  # fmt: skip
MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
MAX_FIELDS = 10
CONTEXT_ELEMENTS = 10
TEXT_CHARS = 3000
BLOCK_ID_CHARS = 255
TEXT_EXTRA_KEYS = {"plain_text": {"emoji"}, "mrkdwn": {"verbatim"}}


@dataclass
class TextResponse(Response):
    """A ``text/plain`` answer, as Slack's webhooks give."""

    def encode(self) -> bytes:
        return b"" if self.body is None else str(self.body).encode()


class _TextHandler(_Handler):
    """The shared handler, except that a TextResponse is labelled text/plain (not JSON)."""

    def _write(self, answer: Response) -> None:
        if not isinstance(answer, TextResponse):
            super()._write(answer)
            return
        payload = answer.encode()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class FakeSlack(FakeServer):
    """Slack incoming webhooks: POST a message to a webhook path."""

    def __init__(
        self,
        webhook_paths: tuple[str, ...] = (WEBHOOK_PATH,),
        rate_limit: RateLimit | None = RateLimit(1, 1.0),  # noqa: B008 (frozen dataclass)
        retry_after_s: int | float = 1,
        latency_s: float = 0.0,
        port: int = 0,
    ) -> None:
        super().__init__(rate_limit=rate_limit, latency_s=latency_s, port=port)
        self.webhook_paths = webhook_paths
        self.retry_after_s = retry_after_s
        self.messages: list[dict[str, Any]] = []
        self.posted_to: list[str] = []
        self._router = Router()
        for path in webhook_paths:
            self._router.add(re.escape(path), "POST", self._post)

    @property
    def webhook_url(self) -> str:
        """The URL of the first webhook (what SLACK_WEBHOOK_URL holds)."""
        return f"{self.base_url}{self.webhook_paths[0]}"

    def _listen(self, port: int) -> None:
        super()._listen(port)
        if self._httpd is not None:
            self._httpd.RequestHandlerClass = _TextHandler

    # -- the API's own answers -------------------------------------------------------------------

    def authenticate(self, request: Request) -> Response | None:
        """The webhook URL is the credential: an unknown path is 404 no_service."""
        return None if request.path in self.webhook_paths else TextResponse(404, "no_service")

    def error_response(self, status: int, message: str) -> Response:
        return TextResponse(status, message)

    def invalid_json_response(self, request: Request) -> Response:
        return TextResponse(400, "invalid_payload")

    def rate_limited_response(self, retry_after: int | float | None) -> Response:
        seconds = self.retry_after_s if retry_after is None else retry_after
        return TextResponse(429, "rate_limited", {"Retry-After": f"{seconds:g}"})

    def count_items(self, request: Request) -> int:
        return 1 if request.method == "POST" and request.path in self.webhook_paths else 0

    def handle_api(self, request: Request) -> Response:
        return self.dispatch(self._router, request)

    # -- the webhook -----------------------------------------------------------------------------

    def _post(self, request: Request) -> Response:
        problem = message_problem(request.body)
        if problem is not None:
            return TextResponse(400, problem)
        with self.lock:
            self.messages.append(request.body)
            self.posted_to.append(request.path)
        return TextResponse(200, "ok")


# -- validation ----------------------------------------------------------------------------------


def message_problem(body: Any) -> str | None:
    """Slack's error string for a message it would refuse, or None."""
    if not isinstance(body, dict) or set(body) - MESSAGE_KEYS:
        return "invalid_payload"
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        return "invalid_payload"
    if not text and "blocks" not in body:
        return "no_text"
    if "blocks" in body and not _blocks_valid(body["blocks"]):
        return "invalid_blocks"
    return None


def _blocks_valid(blocks: Any) -> bool:
    if not isinstance(blocks, list) or not 1 <= len(blocks) <= MAX_BLOCKS:
        return False
    ids = [block.get("block_id") for block in blocks if isinstance(block, dict) and "block_id" in block]
    if len(ids) != len(set(map(str, ids))):
        return False
    return all(_block_valid(block) for block in blocks)


def _block_valid(block: Any) -> bool:
    if not isinstance(block, dict):
        return False
    block_id = block.get("block_id")
    if block_id is not None and (not isinstance(block_id, str) or not 0 < len(block_id) <= BLOCK_ID_CHARS):
        return False
    kind = block.get("type")
    keys = set(block) - {"type", "block_id"}
    if kind == "divider":
        return not keys
    if kind == "header":
        return keys == {"text"} and _text_valid(block["text"], HEADER_CHARS, kinds=("plain_text",))
    if kind == "section":
        if not keys or keys - {"text", "fields"}:
            return False
        if "text" in block and not _text_valid(block["text"], SECTION_CHARS):
            return False
        fields = block.get("fields")
        return fields is None or (
            isinstance(fields, list)
            and 1 <= len(fields) <= MAX_FIELDS
            and all(_text_valid(item, FIELD_CHARS) for item in fields)
        )
    if kind == "context":
        elements = block.get("elements")
        return (
            keys == {"elements"}
            and isinstance(elements, list)
            and 1 <= len(elements) <= CONTEXT_ELEMENTS
            and all(_text_valid(item, TEXT_CHARS) for item in elements)
        )
    return False


def _text_valid(obj: Any, limit: int, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> bool:
    if not isinstance(obj, dict) or obj.get("type") not in kinds:
        return False
    if set(obj) - {"type", "text"} - TEXT_EXTRA_KEYS[obj["type"]]:
        return False
    text = obj.get("text")
    return isinstance(text, str) and 0 < len(text) <= limit


def main(argv: list[str] | None = None) -> None:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--webhook-path", default=WEBHOOK_PATH, help="the webhook's path")

    def build(
        args: argparse.Namespace, rate_limit: RateLimit | None, latency_s: float, port: int
    ) -> FakeServer:
        return FakeSlack(
            webhook_paths=(args.webhook_path,),
            rate_limit=rate_limit or RateLimit(1, 1.0),
            latency_s=latency_s,
            port=port,
        )

    serve_from_command_line(build, "A strict local fake of Slack incoming webhooks.", add_arguments, argv)


if __name__ == "__main__":
    main()
