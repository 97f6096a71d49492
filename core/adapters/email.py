"""Email over SMTP: one connection for a batch of messages, and what the server's answer means for a message (refused
for good, or try later). The retry policy and the record of what was sent are core/notify.py's."""

from __future__ import annotations

import smtplib
import ssl
from contextlib import suppress
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from core.config import Settings

SMTP_TIMEOUT_SECONDS = 10
# The server answered about this one message (smtplib errors are OSErrors too: these must be caught first).
ABOUT_MESSAGE = (
    smtplib.SMTPResponseException,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPNotSupportedError,
    ValueError,  # an address or header that cannot be encoded
)


class Mailer:
    """One SMTP connection for a batch of messages, opened at the first message and closed (QUIT) at the end.

    `send` raises one of ABOUT_MESSAGE when the server refused that message, and an OSError (ConnectionError for a
    refused greeting or login) when the connection failed: then the rest of the batch waits."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, subject: str, body: str, to: str) -> None:
        self._smtp = self._smtp or connect(self._settings)
        self._smtp.send_message(message(self._settings, subject, body, to))

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_: object) -> None:
        if self._smtp is not None:
            with suppress(OSError):
                self._smtp.quit()
            self._smtp.close()


def connect(settings: Settings) -> smtplib.SMTP:
    try:
        return _open(settings)
    except smtplib.SMTPException as error:
        # A refused greeting or login is about the server, not a message: never counted against a message.
        raise ConnectionError(describe(error)) from error


def _open(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.smtp_host or "", settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.ehlo()
        if settings.smtp_starttls and smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def message(settings: Settings, subject: str, body: str, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = to
    mail["Subject"] = " ".join(subject.split())  # a line break in a header would end it
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    mail.set_content(f"{body}\n\nOpen Gatehouse: {settings.app_url}\n")
    return mail


def _reply(error: Exception) -> tuple[int, str] | None:
    """The server's reply code and text, when the error carries one."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):  # one recipient per message: its reply
        code, text = next(iter(error.recipients.values()))
        return code, text.decode(errors="replace") if isinstance(text, bytes) else text
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        return error.smtp_code, text.decode(errors="replace") if isinstance(text, bytes) else text
    return None


def is_permanent(error: Exception) -> bool:
    reply = _reply(error)
    return reply is None or reply[0] >= 500


def describe(error: Exception) -> str:
    reply = _reply(error)
    return f"{reply[0]} {reply[1]}" if reply else f"{type(error).__name__}: {error}"
