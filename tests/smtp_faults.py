"""SMTP servers that misbehave on demand, on 127.0.0.1 and a free port (test helpers).

``Picky``: an aiosmtpd handler (a real SMTP server) that refuses some recipients, holds some
messages without answering, and can stop a sender in the middle of a delivery.
``FaultyServer``: a tiny hand-written server for what aiosmtpd cannot do — never answer, hang
up after the greeting, demand TLS, drop the connection in the middle of DATA.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

# What Picky does with a recipient, by the start of its address.
REFUSED = "refuse"  # 550 at RCPT, always (a permanent refusal)
BUSY = "busy"  # 451 at RCPT until healed (a temporary refusal)
BOUNCED = "bounce"  # 554 after DATA until healed
SLOW = "slow"  # the DATA answer never comes (until healed): the sender times out
HOLD = "hold"  # the first DATA is held until ``release`` (the sender is killed meanwhile)
DROP = "drop"  # FaultyServer "drop": the connection is cut in the middle of DATA


def parse(envelope: Envelope) -> EmailMessage:
    assert isinstance(envelope.content, bytes)
    return message_from_bytes(envelope.content, policy=policy.default)  # type: ignore[return-value]


def wait_for(condition: Any, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.02)


class Picky:
    """aiosmtpd handler: ``accepted`` (answered 250) and ``held`` (received, never answered)."""

    def __init__(self) -> None:
        self.accepted: list[Envelope] = []
        self.held: list[Envelope] = []
        self.healed = False
        self.hold_first = True
        self.released = threading.Event()
        self.peers: set[Any] = set()
        self.wait_for_peers = 0  # hold the first DATA until this many connections used MAIL
        self.delay = 0.0

    async def handle_MAIL(self, server: Any, session: Any, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        self.peers.add(session.peer)
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        if address.startswith(REFUSED):
            return "550 5.1.1 Unknown user"
        if address.startswith(BUSY) and not self.healed:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        recipient = envelope.rcpt_tos[0]
        if recipient.startswith(BOUNCED) and not self.healed:
            return "554 5.6.0 Message refused"
        slow = recipient.startswith(SLOW) and not self.healed
        if slow or (recipient.startswith(HOLD) and self.hold_first):
            self.hold_first = self.hold_first and slow
            self.held.append(envelope)
            await self._until(self.released.is_set, 30)
            return "451 4.4.2 Too late"  # nobody listens any more
        if self.wait_for_peers and not self.accepted:
            await self._until(lambda: len(self.peers) >= self.wait_for_peers, 50)
        await asyncio.sleep(self.delay)
        self.accepted.append(envelope)
        return "250 Message accepted for delivery"

    @staticmethod
    async def _until(condition: Any, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def accepted_for(self, prefix: str) -> list[EmailMessage]:
        return [parse(e) for e in self.accepted if e.rcpt_tos[0].startswith(prefix)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def picky_server() -> Iterator[tuple[Picky, int]]:
    handler, port = Picky(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.released.set()
        handler.healed = True
        controller.stop()


class FaultyServer:
    """A hand-written SMTP server with one fault, serving one connection at a time.

    ``silent``: the connection is accepted (by the kernel) and nothing is ever said;
    ``hangup``: the greeting, then the connection is closed;
    ``tls``: STARTTLS is advertised and MAIL refused with 530 until it is used;
    ``drop``: a recipient starting with "drop" has its connection cut in the middle of DATA,
    any other is accepted (``received`` lists them).
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.received: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = int(self.listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FaultyServer:
        if self.mode != "silent":  # silent: connections wait in the backlog, unanswered
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection, connection.makefile("rb") as reader:
                connection.settimeout(5)
                with suppress(OSError):  # the client went away: wait for the next one
                    self._talk(connection, reader)

    def _talk(self, connection: socket.socket, reader: Any) -> None:
        def say(*lines: str) -> None:
            connection.sendall("".join(line + "\r\n" for line in lines).encode())

        say("220 faulty.test ESMTP")
        if self.mode == "hangup":
            return
        recipient = ""
        for raw in reader:
            verb = raw[:4].upper()
            if verb == b"EHLO":
                say("250-faulty.test", *(["250-STARTTLS"] if self.mode == "tls" else []),
                    "250 8BITMIME")
            elif verb == b"MAIL" and self.mode == "tls":
                say("530 5.7.0 Must issue a STARTTLS command first")
            elif verb == b"RCPT":
                recipient = raw.decode().partition(":")[2].strip(" <>\r\n")
                say("250 OK")
            elif verb == b"DATA":
                say("354 End data with <CR><LF>.<CR><LF>")
                if recipient.startswith(DROP):
                    reader.readline()  # a line of the message, then the line goes dead
                    connection.shutdown(socket.SHUT_RDWR)
                    return
                while reader.readline() not in (b".\r\n", b""):
                    pass
                self.received.append(recipient)
                say("250 OK")
            elif verb == b"QUIT":
                say("221 Bye")
                return
            else:  # HELO, MAIL, RSET, NOOP
                say("250 OK")
