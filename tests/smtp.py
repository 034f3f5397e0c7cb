"""A real SMTP server for the tests that send mail: aiosmtpd on a loopback port, in a thread
of the test process, keeping every message it accepted. It can be stopped and started
again on the same port (the mail server down, then up), refuse chosen recipients with a
5xx, and answer RCPT TO slowly (so a worker can be killed while a mail is not yet taken)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections import Counter

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """The aiosmtpd handler: refuses ``refused`` recipients (550), waits ``rcpt_delay``
    seconds in RCPT TO, and keeps each accepted message, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused: set[str] = set()
        self.rcpt_delay = 0.0
        self.in_rcpt = threading.Event()
        self.rcpt_since = 0.0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 No such mailbox here"
        if self.rcpt_delay:
            self.rcpt_since = time.monotonic()
            self.in_rcpt.set()
            await asyncio.sleep(self.rcpt_delay)
            self.in_rcpt.clear()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SMTPServer:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = Collector()
        self.controller: Controller | None = None

    def start(self) -> SMTPServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list:
        with self.handler.lock:
            return list(self.handler.messages)

    def count(self) -> int:
        with self.handler.lock:
            return len(self.handler.messages)

    def message_ids(self) -> Counter:
        return Counter(m["Message-ID"] for m in self.messages)

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def holding_rcpt(self, *, at_least: float) -> bool:
        """A client is in RCPT TO and will stay there ``at_least`` seconds more."""
        handler = self.handler
        remaining = handler.rcpt_since + handler.rcpt_delay - time.monotonic()
        return handler.in_rcpt.is_set() and remaining >= at_least

    def wait_for(self, count: int, seconds: float = 30) -> list:
        deadline = time.monotonic() + seconds
        while self.count() < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def parts(message) -> tuple[str, str]:
    """The plain-text and HTML bodies of a multipart/alternative mail."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html
