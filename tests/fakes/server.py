"""Shared machinery for the local HTTP fakes of HubSpot and Customer.io.

A fake is a real HTTP/1.1 server on ``127.0.0.1`` (port 0 unless told otherwise), served by a
``ThreadingHTTPServer`` in a daemon thread, so the sync under test talks to it with real
``requests`` calls over loopback: nothing is monkeypatched.

    with FakeHubSpot() as srv:
        requests.post(f"{srv.base_url}/crm/v3/objects/contacts/batch/upsert", ...)

Every request goes through the same pipeline, in this order (``FakeServer.process``):

1. ``latency_s``: sleep (for benchmarks).
2. Outage (``set_outage``): mode ``"503"`` answers every request 503; mode ``"refuse"`` closes the
   listening socket (new connections are refused) and drops any request arriving on an already open
   keep-alive connection. Turning the outage off re-opens the same port, so ``base_url`` stays valid.
3. Faults (``add_fault``), consumed in order. For each request the first fault whose ``path_prefix``
   matches is the active one: it first lets ``after`` matching requests through, then fires ``times``
   times, then is removed and the next matching fault becomes active. Kinds:
   - ``"status"``: answer ``status`` with the API's JSON error body; nothing is applied.
   - ``"rate_limit"``: answer 429 with the API's own 429 body; ``Retry-After`` only when
     ``retry_after`` is not None.
   - ``"drop_after_apply"``: run the request normally (the write is applied), then close the
     connection without sending a byte: the client sees a connection error.
   - ``"drop_before_apply"``: close the connection without applying anything.
   Requests answered by an outage or a fault never reach the rate limiter and do not count in it.
4. Authentication (each API's own 401).
5. Rate limiter (``RateLimit``): a rolling window of ``window_s`` seconds holding at most
   ``max_requests`` requests; beyond that the API's 429. ``count_rejected`` (default True, the
   stricter choice: APIs count every call they receive, so a client that keeps hammering while
   limited stays limited) makes rejected requests occupy the window too. Served 429s are counted in
   ``rate_limited``.
6. Body checks: a request with a body must be ``Content-Type: application/json`` (415 otherwise) and
   hold valid JSON (400 otherwise), each answered in the API's own error shape.
7. The API itself (``handle_api``), under ``lock`` for every read-modify-write of the stores.

Every request, answered or dropped, is appended to a thread-safe log (``requests``), with the
``Authorization`` header redacted. Dropped requests are logged with ``status=None``.

Keep-alive: responses always carry ``Content-Length`` and the handler speaks HTTP/1.1 with Nagle's
algorithm off, so a ``requests.Session`` reuses one connection per thread (``connections_opened``
lets a test prove it). Each connection gets its own handler thread.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import re
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Self, TypedDict, cast, get_args
from urllib.parse import unquote, urlsplit

FaultKind = Literal["status", "rate_limit", "drop_after_apply", "drop_before_apply"]
OutageMode = Literal["503", "refuse"]
REDACTED = "REDACTED"
_POLL_INTERVAL_S = 0.02  # how fast serve_forever notices a shutdown: keeps stop() quick in tests


@dataclass(frozen=True)
class RateLimit:
    """At most ``max_requests`` requests in any rolling window of ``window_s`` seconds."""

    max_requests: int
    window_s: float
    count_rejected: bool = True

    def __post_init__(self) -> None:
        if self.max_requests < 1 or self.window_s <= 0:
            raise ValueError(f"rate limit needs max_requests >= 1 and window_s > 0, got {self}")


def parse_rate_limit(text: str) -> RateLimit:
    """``"100/10"`` -> 100 requests per 10 seconds (the CLI's ``--rate-limit``)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*", text)
    if not match:
        raise ValueError(f"rate limit must look like 100/10 (requests/seconds), got {text!r}")
    return RateLimit(max_requests=int(match[1]), window_s=float(match[2]))


class ServerOptions(TypedDict, total=False):
    """The keyword arguments a fake passes on to ``FakeServer`` unchanged (``**options``)."""

    rate_limit: RateLimit | None
    latency_s: float
    port: int


@dataclass
class Fault:
    """One injected failure; see the module docstring for the kinds and how they are consumed."""

    kind: FaultKind
    times: int = 1
    path_prefix: str | None = None
    after: int = 0
    status: int = 503
    retry_after: int | float | None = None

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {get_args(FaultKind)}")
        if self.times < 1 or self.after < 0:
            raise ValueError(f"fault needs times >= 1 and after >= 0, got {self}")

    def matches(self, path: str) -> bool:
        return self.path_prefix is None or path.startswith(self.path_prefix)


@dataclass
class _ArmedFault:
    fault: Fault
    skip: int
    left: int


@dataclass(frozen=True)
class RecordedRequest:
    """What the fake saw of one request and how it answered (``status=None``: dropped)."""

    method: str
    path: str
    query: str
    status: int | None
    body: Any  # parsed JSON, or None (no body or not JSON)
    headers: dict[str, str]
    time: float  # time.monotonic() when the request arrived
    items: int  # inputs in a batch (1 for a single-record write, 0 otherwise)
    fault: str | None  # fault kind or "outage" when one answered instead of the API


@dataclass(frozen=True)
class Request:
    """An incoming request, body read and parsed (``json_error`` set when it is not JSON)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes
    body: Any
    json_error: str | None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Response:
    """A JSON answer; ``body=None`` sends an empty body."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


class RollingWindow:
    """Sliding-log limiter: remembers the arrival time of every request still inside the window."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def acquire(self, now: float) -> bool:
        """Admit (True) or reject (False) a request arriving at ``now``."""
        with self._lock:
            self._expire(now)
            admitted = len(self._times) < self.limit.max_requests
            if admitted or self.limit.count_rejected:
                self._times.append(now)
            return admitted

    def remaining(self, now: float) -> int:
        with self._lock:
            self._expire(now)
            return max(0, self.limit.max_requests - len(self._times))

    def _expire(self, now: float) -> None:
        while self._times and self._times[0] <= now - self.limit.window_s:
            self._times.popleft()


Handler = Callable[..., Response]


class Router:
    """Method + full-path regex -> handler; path parameters are passed URL-decoded as keywords."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = []

    def add(self, pattern: str, method: str, handler: Handler) -> None:
        for regex, methods in self._routes:
            if regex.pattern == pattern:
                methods[method] = handler
                return
        self._routes.append((re.compile(pattern), {method: handler}))

    def find(
        self, method: str, path: str
    ) -> tuple[Handler, dict[str, str]] | Literal["no_path", "no_method"]:
        for regex, methods in self._routes:
            match = regex.fullmatch(path)
            if match is None:
                continue
            if method not in methods:
                return "no_method"
            return methods[method], {name: unquote(value) for name, value in match.groupdict().items()}
        return "no_path"


def now_iso() -> str:
    """Wall-clock UTC time as the APIs write it: ``2026-03-01T10:00:00.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


def is_json_content_type(value: str | None) -> bool:
    """``application/json`` with an optional ``charset=utf-8`` parameter."""
    if value is None:
        return False
    media_type, *params = (part.strip().lower() for part in value.split(";"))
    charsets = [p.split("=", 1)[1].strip('"') for p in params if p.startswith("charset=")]
    return media_type == "application/json" and all(c in ("utf-8", "utf8") for c in charsets)


class FakeServer:
    """Base of the fakes: lifecycle, request log, faults, outage, rate limiting, pipeline.

    Subclasses implement the API: ``handle_api`` and the hooks that shape each API's own
    answers (``authenticate``, ``error_response``, ``rate_limited_response`` ...).
    """

    def __init__(self, *, rate_limit: RateLimit | None = None, latency_s: float = 0.0, port: int = 0) -> None:
        self.rate_limit = rate_limit
        self.latency_s = latency_s
        self.lock = threading.RLock()  # guards the API's stores; handlers hold it while they write
        self.rate_limited = 0
        self.connections_opened = 0
        self._limiter = RollingWindow(rate_limit) if rate_limit else None
        self._requested_port = port
        self._port: int | None = None
        self._log: list[RecordedRequest] = []
        self._faults: list[_ArmedFault] = []
        self._outage: OutageMode | None = None
        self._state_lock = threading.Lock()  # guards log, faults, outage, counters
        self._lifecycle_lock = threading.Lock()
        self._running = False
        self._httpd: _Httpd | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        with self._lifecycle_lock:
            self._running = True
            if self._httpd is None:
                self._listen(self._port if self._port is not None else self._requested_port)
                if self._outage == "refuse":  # refused before start: bind (to know the port), then close
                    self._close_listener()
        return self

    def stop(self) -> None:
        with self._lifecycle_lock:
            self._running = False
            self._close_listener()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake server is not started: use it as a context manager or call start()")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _listen(self, port: int) -> None:
        httpd = _Httpd(("127.0.0.1", port), self)
        self._port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": _POLL_INTERVAL_S},
            name=f"{type(self).__name__}:{self._port}",
            daemon=True,
        )
        self._thread.start()

    def _close_listener(self) -> None:
        httpd, thread = self._httpd, self._thread
        self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if thread is not None:
            thread.join()

    # -- test controls ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        with self._state_lock:
            return list(self._log)

    def reset_log(self) -> None:
        """Forget the request log (stores, counters and faults are kept)."""
        with self._state_lock:
            self._log.clear()

    def add_fault(self, fault: Fault) -> None:
        with self._state_lock:
            self._faults.append(_ArmedFault(fault, skip=fault.after, left=fault.times))

    def set_outage(self, on: bool, mode: OutageMode = "503") -> None:
        """Until turned off, every request fails: 503 answers, or refused connections."""
        if mode not in get_args(OutageMode):
            raise ValueError(f"outage mode must be one of {get_args(OutageMode)}, got {mode!r}")
        with self._lifecycle_lock:
            with self._state_lock:
                before, self._outage = self._outage, (mode if on else None)
            if before == "refuse" and self._outage != "refuse" and self._running:
                self._listen(self.port)
            elif self._outage == "refuse" and before != "refuse":
                self._close_listener()

    def _take_fault(self, path: str) -> Fault | None:
        with self._state_lock:
            for armed in self._faults:
                if not armed.fault.matches(path):
                    continue
                if armed.skip > 0:
                    armed.skip -= 1
                    return None
                armed.left -= 1
                if armed.left == 0:
                    self._faults.remove(armed)
                return armed.fault
        return None

    def _connection_opened(self) -> None:
        with self._state_lock:
            self.connections_opened += 1

    # -- hooks for the APIs ----------------------------------------------------------------------

    def handle_api(self, request: Request) -> Response:
        raise NotImplementedError

    def authenticate(self, request: Request) -> Response | None:
        """None when the credentials are right, else the API's 401."""
        raise NotImplementedError

    def error_response(self, status: int, message: str) -> Response:
        """The API's generic JSON error body for ``status``."""
        raise NotImplementedError

    def rate_limited_response(self, retry_after: int | float | None) -> Response:
        """The API's own 429 (from the limiter, or a ``rate_limit`` fault)."""
        raise NotImplementedError

    def invalid_json_response(self, request: Request) -> Response:
        return self.error_response(400, f"Invalid input JSON: {request.json_error}")

    def reject_before_parsing(self, request: Request) -> Response | None:
        """A refusal that comes before any look at the body (e.g. a request too large)."""
        return None

    def dispatch(self, router: Router, request: Request) -> Response:
        """Run the handler routed for the request, or the API's 404 / 405."""
        found = router.find(request.method, request.path)
        if found == "no_path":
            return self.error_response(404, f"No route for {request.method} {request.path}")
        if found == "no_method":
            return self.error_response(405, f"Method {request.method} is not allowed on {request.path}")
        handler, params = found
        return handler(request, **params)

    def rate_limit_headers(self, remaining: int | None) -> dict[str, str]:
        """Headers added to every answer; ``remaining=None`` when there is no limiter."""
        return {}

    def count_items(self, request: Request) -> int:
        """How many records the request writes (batch inputs), for the log."""
        return 0

    # -- the pipeline ----------------------------------------------------------------------------

    def process(self, request: Request) -> Response | None:
        """Answer one request (None: drop the connection without answering) and log it."""
        arrived = time.monotonic()
        if self.latency_s:
            time.sleep(self.latency_s)
        with self._state_lock:
            outage = self._outage
        if outage is not None:
            answer = None if outage == "refuse" else self.error_response(503, "Service Unavailable")
            return self._record(request, arrived, answer, "outage")
        fault = self._take_fault(request.path)
        if fault is None:
            return self._record(request, arrived, self._serve(request, arrived), None)
        if fault.kind == "drop_after_apply":
            self._serve(request, arrived)  # applied in full; the answer is never sent
            return self._record(request, arrived, None, fault.kind)
        if fault.kind == "status":
            answer = self.error_response(fault.status, f"injected fault: HTTP {fault.status}")
        elif fault.kind == "rate_limit":
            answer = self.rate_limited_response(fault.retry_after)
            answer.headers.update(self.rate_limit_headers(0))
        else:  # drop_before_apply
            answer = None
        return self._record(request, arrived, answer, fault.kind)

    def _serve(self, request: Request, arrived: float) -> Response:
        denied = self.authenticate(request)
        if denied is not None:
            return self._with_rate_headers(denied, arrived)
        if self._limiter is not None and not self._limiter.acquire(arrived):
            with self._state_lock:
                self.rate_limited += 1
            limited = self.rate_limited_response(None)
            limited.headers.update(self.rate_limit_headers(0))
            return limited
        answer = (
            self.reject_before_parsing(request) or self._check_body(request) or self._safely_handle(request)
        )
        return self._with_rate_headers(answer, arrived)

    def _check_body(self, request: Request) -> Response | None:
        if not request.raw:
            return None
        if not is_json_content_type(request.header("content-type")):
            return self.error_response(415, "Unsupported Media Type: send Content-Type: application/json")
        if request.json_error is not None:
            return self.invalid_json_response(request)
        return None

    def _safely_handle(self, request: Request) -> Response:
        try:
            return self.handle_api(request)
        except Exception as error:  # a bug in the fake: say so loudly, answer 500
            traceback.print_exc(file=sys.stderr)
            return self.error_response(500, f"fake server bug: {error!r}")

    def _with_rate_headers(self, response: Response, now: float) -> Response:
        remaining = self._limiter.remaining(now) if self._limiter is not None else None
        response.headers.update(self.rate_limit_headers(remaining))
        return response

    def _record(
        self, request: Request, arrived: float, answer: Response | None, fault: str | None
    ) -> Response | None:
        headers = {
            name: (REDACTED if name == "authorization" else value) for name, value in request.headers.items()
        }
        entry = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            status=answer.status if answer is not None else None,
            body=request.body,
            headers=headers,
            time=arrived,
            items=self.count_items(request),
            fault=fault,
        )
        with self._state_lock:
            self._log.append(entry)
        return answer


class _Httpd(ThreadingHTTPServer):
    """Threading server that remembers its open connections so stop() can close them."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeServer) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        self.fake._connection_opened()
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, hands it to the fake, writes the answer (or drops the connection)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "fake-api"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the fake keeps its own log."""

    def _dispatch(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._write(Response(411, {"message": "send Content-Length; chunked bodies are not supported"}))
            self.close_connection = True
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = cast(_Httpd, self.server).fake.process(self._request(raw))
        if answer is None:
            self.close_connection = True  # nothing written: the client sees the connection close
            return
        self._write(answer)

    def _request(self, raw: bytes) -> Request:
        url = urlsplit(self.path)
        body, error = None, None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                error = str(exc)
        headers = {name.lower(): value for name, value in self.headers.items()}
        return Request(self.command, url.path, url.query, headers, raw, body, error)

    def _write(self, answer: Response) -> None:
        payload = answer.encode()
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def serve_from_command_line(
    build: Callable[[argparse.Namespace, RateLimit | None, float, int], FakeServer],
    description: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    argv: Sequence[str] | None = None,
) -> None:
    """``python -m tests.fakes.<api> --port 8765 [--rate-limit 100/10] [--latency-ms 0]``.

    Prints the base URL on the first line of stdout, then serves until interrupted.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--rate-limit", type=parse_rate_limit, default=None, help="e.g. 100/10 (requests/seconds)"
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    add_arguments(parser)
    args = parser.parse_args(argv)
    server = build(args, args.rate_limit, args.latency_ms / 1000.0, args.port)
    with server:
        print(server.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
