"""A newsroom's webhook receiver for the tests: a local HTTP server on loopback that keeps
every POST it gets and answers as the test tells it (a status per request, a pause before
answering). Signatures are checked with the ``standardwebhooks`` library, as a newsroom
would check them; nothing here shares code with ``services/webhooks.py``.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import time
from dataclasses import dataclass

from standardwebhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str
    status: int
    arrived: float
    answered: bool = False

    @property
    def message(self) -> dict:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def verify(self, secret: str) -> dict:
        """The body, parsed, if its signature verifies with ``secret``; raises
        ``standardwebhooks.WebhookVerificationError`` otherwise."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """``tls``: (certificate file, key file) to answer https. ``answers``: statuses for
    the next requests, in order (200 once they run out). ``pause``: seconds to wait before
    answering each of the next ``pause_count`` requests (all of them if None)."""

    def __init__(self, *, tls: tuple[str, str] | None = None):
        self.requests: list[Received] = []
        self.answers: list[int] = []
        self.pause = 0.0
        self.pause_count: int | None = None
        self.in_flight = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with receiver._lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    pause = receiver.pause
                    if receiver.pause_count is not None:
                        pause = pause if receiver.pause_count > 0 else 0.0
                        receiver.pause_count = max(receiver.pause_count - 1, 0)
                    received = Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                        status=status,
                        arrived=time.monotonic(),
                    )
                    receiver.requests.append(received)
                    receiver.in_flight += 1
                try:
                    if pause:
                        time.sleep(pause)
                    answer = b"thanks" if status < 300 else b"not now"
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    self.wfile.flush()
                    received.answered = True
                except OSError:
                    pass  # the sender is gone (a killed worker)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:  # (certificate file, key file): answer https
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def contract_payload(*, headline: str, commitment=None, summary: str = "") -> dict:
    """An event payload shaped as the events' contract says (what the events helper
    writes), for events the tests record themselves."""
    return {
        "headline": headline,
        "summary": summary,
        "url": "https://tracker.example.org/commitments/x/#update-1",
        "occurred_on": "2025-10-01",
        "occurred_precision": "day",
        "occurred_label": "1 October 2025",
        "commitment": (
            {
                "slug": commitment.slug,
                "title": commitment.title,
                "url": f"https://tracker.example.org/commitments/{commitment.slug}/",
                "status": "in_progress",
                "status_label": "In progress",
            }
            if commitment is not None
            else None
        ),
        "actor": None,
        "topic": None,
        "sources": [
            {
                "title": "Budget report",
                "outlet": "Example News",
                "url": "https://news.example.org/budget",
                "archive_url": "",
            }
        ],
        "changes": [],
    }
