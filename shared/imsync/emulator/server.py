"""HTTP front: parse, check faults and signatures, route to api/, log every request."""

from __future__ import annotations

import json
import logging
import selectors
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import api
from .errors import ApiError
from .model import RequestRecord
from .signing import SignatureError

if TYPE_CHECKING:
    from .core import Emulator

log = logging.getLogger("imsync.emulator")

_FAULT_BODIES: dict[int, tuple[str, str]] = {
    429: ("APIGW.0308", "The throttling threshold has been reached: policy user over ratelimit"),
    500: ("IMG.0002", "Internal server error (injected fault)"),
    502: ("APIGW.0202", "Bad gateway (injected fault)"),
    503: ("APIGW.0201", "Service unavailable (injected fault)"),
    504: ("APIGW.0203", "Backend timeout (injected fault)"),
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, cloud: Emulator, region: str, host: str, port: int = 0) -> None:
        self.cloud = cloud
        self.region = region
        super().__init__((host, port), _Handler)
        # socketserver's serve_forever notices a shutdown only at its next poll; a test suite starts and stops
        # hundreds of emulators, so the loop below also watches this pair and ends the moment `stop` writes to it.
        self._wake, self._waker = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name=f"emulator-{region}", daemon=True)

    def _serve(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake in ready:
                    return
                self.handle_request()  # the listening socket is readable: accept, and answer in a new thread

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting at once, then release the port (answers in flight finish in their daemon threads)."""
        self._waker.send(b"x")
        self._thread.join()
        self.server_close()
        self._wake.close()
        self._waker.close()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: simple and robust with drops

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.server.region, *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        cloud = self.server.cloud
        self._arrived = cloud.arrival()
        try:
            self._answer()
        finally:
            cloud.handled()

    def _answer(self) -> None:
        cloud, region = self.server.cloud, self.server.region
        split = urlsplit(self.path)
        path, query = split.path, split.query
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        route = api.route(region, self.command, path)
        operation = route.operation if route else "unknown"
        account_name: str | None = None
        fault = cloud.faults.pick(region, self.command, path)
        if fault is not None and fault.slow:
            time.sleep(fault.slow)
        if fault is not None and fault.delay and fault.status is not None and not fault.after_effect:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None and not fault.after_effect:
            code, msg = _FAULT_BODIES.get(fault.status, ("APIGW.0201", "injected fault"))
            self._record(region, path, operation, fault.status, None)
            self._send(fault.status, {"error_code": code, "error_msg": msg, "request_id": uuid.uuid4().hex})
            return
        status: int
        payload: Any
        try:
            caller = api.authenticate(cloud, region, self.command, path, query, dict(self.headers), body)
            account_name = caller.account.name
            if route is None:
                raise ApiError(404, "IMG.0404", f"no such API: {self.command} {path}", style="apigw")
            params = parse_qsl(query, keep_blank_values=True)
            try:
                data = json.loads(body) if body else None
            except ValueError as exc:
                raise ApiError(400, "IMG.0001", "the request body is not valid JSON") from exc
            status, payload = route.call(cloud, caller, params, data)
        except ApiError as exc:
            status, payload = exc.status, exc.body()
        except SignatureError as exc:  # pragma: no cover - authenticate turns these into ApiError
            status, payload = 401, {"error_code": "APIGW.0301", "error_msg": str(exc)}
        if fault is not None and isinstance(payload, dict) and "message_id" in payload and status == 200:
            cloud.smn.unanswered.add(str(payload["message_id"]))  # whatever the fault, the publisher hears no success
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status is not None:  # after_effect: the work is done, the answer an error
            code, msg = _FAULT_BODIES.get(fault.status, ("APIGW.0201", "injected fault"))
            self._record(region, path, operation, fault.status, account_name)
            self._send(fault.status, {"error_code": code, "error_msg": msg, "request_id": uuid.uuid4().hex})
            return
        if fault is not None and fault.lose_answer:
            # The effect above happened; the client never learns it.
            self._record(region, path, operation, 0, account_name)
            self.close_connection = True
            return
        if fault is not None and fault.body is not None:
            # The effect above happened; the answer is whatever the rule says (malformed JSON, odd fields).
            self._record(region, path, operation, 200, account_name)
            self._send_raw(200, fault.body.encode())
            return
        self._record(region, path, operation, status, account_name)
        self._send(status, payload)

    def _record(self, region: str, path: str, operation: str, status: int, account: str | None) -> None:
        self.server.cloud._record(RequestRecord(region, self.command, path, operation, status, account, self._arrived))

    def _send(self, status: int, payload: Any) -> None:
        self._send_raw(status, b"" if payload is None or status == 204 else json.dumps(payload).encode())

    def _send_raw(self, status: int, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("X-Request-Id", uuid.uuid4().hex)
            if data:
                self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            log.debug("client went away before the answer (%s)", self.path)


def start_server(cloud: Emulator, region: str, host: str, port: int = 0) -> _Server:
    """Bind `port` (0: a free one) on `host` and serve in a daemon thread."""
    srv = _Server(cloud, region, host, port)
    srv.start()
    return srv
