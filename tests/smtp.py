"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd), that can misbehave on purpose.

Per recipient address it accepts, refuses at RCPT (550), or takes the whole message and then
drops the connection without answering: either throwing the message away (a server that failed
before it took responsibility) or keeping it (one that crashed right after). The client cannot
tell those two apart; that is the point of the 'bezig' state.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    """An aiosmtpd handler: keeps what it accepts, misbehaves for the addresses it is told to."""

    refuse: set[str] = field(default_factory=set)  # 550 at RCPT
    drop: set[str] = field(default_factory=set)  # whole message read, then hang up, not kept
    keep_and_drop: set[str] = field(default_factory=set)  # kept, then hang up before "250"
    # After hanging up, stop listening too: the client cannot reconnect.
    close_after_drop: bool = False
    listener: object = None  # the asyncio server, set by smtp_server()
    received: list[tuple[str, list[str], email.message.EmailMessage]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        recipients = set(envelope.rcpt_tos)
        if recipients & (self.keep_and_drop | self.drop):
            if recipients & self.keep_and_drop:
                self._keep(envelope)
            server.transport.close()  # mid-DATA: the client never hears how it ended
            if self.close_after_drop:
                self.listener.close()
            return "421 closing"  # never reaches the client: the line is gone
        self._keep(envelope)
        return "250 Message accepted for delivery"

    def _keep(self, envelope) -> None:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))

    def by_recipient(self) -> dict[str, list[email.message.EmailMessage]]:
        result: dict[str, list] = {}
        for _, rcpt, message in self.received:
            for address in rcpt:
                result.setdefault(address, []).append(message)
        return result

    def numbers(self) -> list[str]:
        """The invoice number of every message kept, in order (from the subject line)."""
        return [message["Subject"].split()[1] for _, _, message in self.received]


def free_port() -> int:
    # aiosmtpd 1.4.6's Controller(port=0) fails its own start-up check: pick a free port first.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(mailbox: Mailbox | None = None) -> Iterator[tuple[Mailbox, int]]:
    """A running server for `mailbox` (a fresh one by default) and its port."""
    mailbox = mailbox or Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.listener = controller.server
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


def send_batch(folder, port: int, *, resend=frozenset()):
    """verstuur --verzend on one output folder through the library, as the CLI calls it."""
    from inkoopkracht_xl.deliver import open_batch, send
    from inkoopkracht_xl.mail import SmtpSettings

    return send(open_batch(folder), SmtpSettings("127.0.0.1", port), resend=frozenset(resend))
