"""What follows a commit, and only a commit. A unit of work declares in its transaction what must happen once its
decision is kept, roles whose IAM policies changed (`apply_roles`, said by `access.mark_changed`) and messages to
email (`send_mail`, said by `notify.notify`), and `Gatehouse.session` does it after the commit (`due`): a
unit of work that rolls back leaves nothing to do, and no action calls IAM sync or email itself. What the roles'
sync did is read back from the finished unit of work (`applied`), for the sentence that says whether AWS has it.
(Cosmic Python's pattern, kept small: effects collected by the unit of work, handled by one step after it.)"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlmodel import Session

if TYPE_CHECKING:
    from core.context import Gatehouse
    from core.iam_sync import SyncOutcome

_ROLES = "gatehouse_roles_to_apply"
_MAIL = "gatehouse_mail_to_send"
_APPLIED = "gatehouse_applied"
_SENDING: list[threading.Thread] = []  # email on its way, waited for by a process about to end (the CLI)
_SENDING_LOCK = threading.Lock()


def apply_roles(session: Session, role_names: Iterable[str]) -> None:
    """After this unit of work commits, these roles' policies are written to AWS (those still pending then)."""
    session.info.setdefault(_ROLES, set()).update(role_names)


def send_mail(session: Session) -> None:
    """After this unit of work commits, the notifications not yet emailed are (in the background)."""
    session.info[_MAIL] = True


def applied(session: Session) -> list[SyncOutcome]:
    """What applying the roles of a committed unit of work did, role by role (empty: it changed no role)."""
    return list(session.info.get(_APPLIED, ()))


def due(session: Session) -> tuple[list[str], bool]:
    """What the committed unit of work declared, taken once: the roles to apply, and whether email is owed."""
    return sorted(session.info.pop(_ROLES, ())), bool(session.info.pop(_MAIL, False))


def record_applied(session: Session, outcomes: list[SyncOutcome]) -> None:
    session.info[_APPLIED] = outcomes


def in_background(deliver: Callable[[Gatehouse], object], gatehouse: Gatehouse) -> None:
    """Email goes out on a thread of its own: a slow mail server never holds the person who acted (the inbox has
    the message already)."""
    thread = threading.Thread(target=deliver, args=(gatehouse,), daemon=True, name="gatehouse-email")
    with _SENDING_LOCK:
        _SENDING[:] = [t for t in _SENDING if t.is_alive()]
        _SENDING.append(thread)
    thread.start()


def wait_for_mail(timeout: float = 60.0) -> None:
    """Before a process ends (a CLI command): let the email its actions started go out."""
    with _SENDING_LOCK:
        sending = list(_SENDING)
    for thread in sending:
        thread.join(timeout)
