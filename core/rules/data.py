"""Moving data: what a person may read or write of one source's objects, as their grants say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.domain import shown
from core.paths import Paths
from core.rules.decision import ALLOWED, Decision
from core.rules.grants import Held

# --- moving data ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceAccess:
    """What the actor may do with the objects of one source, as their grants in the database say (one or several, of
    different levels on paths that do not overlap)."""

    source: Any  # the DataSource row
    held: tuple[Held, ...]  # paths validated, leading /, no trailing /; empty = the whole bucket

    @property
    def bucket(self) -> str:
        return self.source.name

    @property
    def paths(self) -> Paths:
        """Every path the actor may read (their grants' paths never overlap); none = the whole bucket."""
        if any(not h.paths for h in self.held):
            return Paths.WHOLE
        return Paths(sorted(p for h in self.held for p in h.paths))

    @property
    def write_paths(self) -> Paths | None:
        """The paths the actor may write (none = the whole bucket); None when they may write nowhere."""
        writers = [h for h in self.held if h.level.can_write]
        if not writers:
            return None
        if any(not h.paths for h in writers):
            return Paths.WHOLE
        return Paths(sorted(p for h in writers for p in h.paths))

    @property
    def prefixes(self) -> tuple[str, ...]:
        """The key prefixes the paths cover: `/p/q` covers the keys under `p/q/`, as its IAM statement does."""
        return prefixes(self.paths)


def prefixes(paths: Paths) -> tuple[str, ...]:
    return tuple(path.lstrip("/") + "/" for path in paths)


def check_can_read(access: SourceAccess, key: str) -> Decision:
    if not isinstance(key, str) or not key:
        return Decision(False, "Choose an object first.")
    if not access.paths or key.startswith(access.prefixes):
        return ALLOWED
    return Decision(False, f"Your access to {access.bucket} covers only {access.paths}: {shown(key)} is outside it.")


def check_level_writes(access: SourceAccess) -> Decision:
    if access.write_paths is not None:
        return ALLOWED
    return Decision(False, f"You have read-only access to {access.bucket}: writing to it needs read/write access.")


def check_can_write(access: SourceAccess, key: str) -> Decision:
    level = check_level_writes(access)
    if not level.allowed:
        return level
    readable = check_can_read(access, key)
    writable = access.write_paths or Paths.WHOLE
    if not readable.allowed or not writable or key.startswith(prefixes(writable)):
        return readable
    return Decision(
        False,
        f"You have read/write access to {writable} of {access.bucket} only: {shown(key)} is read only for you.",
    )
