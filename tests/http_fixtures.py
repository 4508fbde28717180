"""A scripted HTTP server on 127.0.0.1 for download tests (no other address is ever contacted).

Each URL path gets a queue of :class:`Reply` objects; the last one repeats. Every request is logged
in ``server.requests`` so tests can count attempts. The server binds an ephemeral port, serves from a
daemon thread and is shut down (bounded join) when the ``with`` block ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK = "127.0.0.1"
_SOCKET_TIMEOUT_S = 5


@dataclass(frozen=True)
class Reply:
    """One scripted response. ``declared_length`` larger than the body simulates a truncated transfer."""

    status: int = 200
    body: bytes = b""
    declared_length: int | None = None


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: the connection closes after each response, so a short body ends in EOF, not a hang.
    protocol_version = "HTTP/1.0"
    timeout = _SOCKET_TIMEOUT_S

    def do_GET(self):  # noqa: N802 (http.server's naming)
        reply = self.server.owner._next_reply(self.path)
        self.send_response(reply.status)
        length = reply.declared_length if reply.declared_length is not None else len(reply.body)
        self.send_header("Content-Length", str(length))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        self.wfile.write(reply.body)
        self.wfile.flush()

    def log_message(self, format, *args):  # keep pytest output clean
        pass


class LoopbackServer:
    """``with LoopbackServer() as server: server.script('/a.csv', Reply(body=b'...')); server.url('/a.csv')``."""

    def __init__(self):
        self._replies: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def script(self, path: str, *replies: Reply) -> str:
        """Queue replies for ``path`` (the last one repeats); returns its URL."""
        with self._lock:
            self._replies[path] = list(replies)
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def count(self, path: str) -> int:
        with self._lock:
            return self.requests.count(path)

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            self.requests.append(path)
            queue = self._replies.get(path)
            if not queue:
                return Reply(status=404, body=b"not found")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def __enter__(self) -> LoopbackServer:
        self._httpd = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        self._httpd.owner = self
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=_SOCKET_TIMEOUT_S)
