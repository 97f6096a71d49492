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
_BACKGROUND: list[threading.Thread] = []  # email, or roles, on their way: waited for by a process about to end (CLI)
_BACKGROUND_LOCK = threading.Lock()


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


def in_answer(roles: list[str], most: int, first: str) -> tuple[list[str], list[str]]:
    """The roles a unit of work changed, split into those applied before the person is answered (the policies named
    with `first`, a team's, which its members' roles attach, then up to `most` roles) and those applied after, in
    the background (a large team's first grant or last revoke reaches every member's role)."""
    ahead = [r for r in roles if r.startswith(first)]
    rest = [r for r in roles if not r.startswith(first)]
    return ahead + rest[:most], rest[most:]


def in_background(work: Callable[[Gatehouse], object], gatehouse: Gatehouse, name: str = "gatehouse-email") -> None:
    """Work that follows the answer, on a thread of its own: a slow mail server, or a thousand members' roles, never
    holds the person who acted (the inbox has the message already; a role not yet written stays pending, retried)."""
    thread = threading.Thread(target=work, args=(gatehouse,), daemon=True, name=name)
    with _BACKGROUND_LOCK:
        _BACKGROUND[:] = [t for t in _BACKGROUND if t.is_alive()]
        _BACKGROUND.append(thread)
    thread.start()


def wait_for_background(timeout: float = 600.0) -> None:
    """Before a process ends (a CLI command): let the email and the roles its actions started go out (what is not
    done by then stays pending, for the next sync to retry)."""
    with _BACKGROUND_LOCK:
        started = list(_BACKGROUND)
    for thread in started:
        thread.join(timeout)
