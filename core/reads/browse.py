"""Browsing a source: a folder's subfolders and objects one page (one S3 call) at a time, within the person's paths,
and the way back up. Reads no object's bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.adapters.models import User
from core.context import Gatehouse
from core.domain import InvalidInput, NotAllowed, console_url, shown
from core.queries import source_access
from core.rules import SourceAccess, check_can_write


@dataclass(frozen=True)
class Folder:
    name: str
    prefix: str  # the key prefix it stands for, ending with / ("" for the bucket itself)


@dataclass(frozen=True)
class ObjectEntry:
    name: str
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class FolderPage:
    source: str
    prefix: str
    folders: list[Folder]
    objects: list[ObjectEntry]
    next_token: str | None  # pass it back for the next page; None on the last
    console_url: str  # "Open on AWS"


def folder_prefix(prefix: object) -> str:
    """A folder as typed or clicked ("a/b", "/a/b/", "") as the key prefix S3 lists ("a/b/")."""
    if prefix is None:
        return ""
    if not isinstance(prefix, str) or any(ord(c) < 32 or ord(c) == 127 for c in prefix):
        raise InvalidInput("The folder name holds a control character, such as a tab or a line break.")
    text = prefix.strip().lstrip("/")
    return text if not text or text.endswith("/") else text + "/"


def _granted_below(access: SourceAccess, prefix: str) -> list[Folder]:
    """The folders leading from `prefix` towards the actor's granted paths, without listing the bucket."""
    names = sorted({p[len(prefix) :].split("/", 1)[0] for p in access.prefixes if p.startswith(prefix) and p != prefix})
    return [Folder(name, f"{prefix}{name}/") for name in names]


def list_folder(
    gatehouse: Gatehouse,
    actor: User,
    source: str,
    prefix: str = "",
    continuation_token: str | None = None,
    page_size: int = 100,
) -> FolderPage:
    """One page of a folder's subfolders and objects, from one ListObjectsV2 call, within the actor's paths.

    Above a path-restricted grant's paths (the bucket's root, say), the folders that lead to the paths are shown
    instead of a listing: the bucket's other keys are none of the actor's business."""
    prefix = folder_prefix(prefix)
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 1000:
        raise InvalidInput("A page holds 1 to 1,000 entries.")
    with gatehouse.session() as session:
        access = source_access(session, actor, source)
    if access.paths and not prefix.startswith(access.prefixes):
        leading = _granted_below(access, prefix)
        if not leading:
            raise NotAllowed(
                f"Your access to {access.bucket} covers only {access.paths}: {shown(prefix)} is outside it."
            )
        # Their role may not list above the paths either: the console opens at the first one below.
        first = min(p for p in access.prefixes if p.startswith(prefix))
        link = console_url(access.bucket, access.source.region, first)
        return FolderPage(access.bucket, prefix, leading, [], None, link)
    link = console_url(access.bucket, access.source.region, prefix)
    listing = gatehouse.aws.list_folder(access.bucket, prefix, page_size, continuation_token)
    folders = [Folder(p[len(prefix) :].rstrip("/"), p) for p in listing.prefixes]
    objects = [
        ObjectEntry(key[len(prefix) :], key, size, modified)
        for key, size, modified in listing.objects
        if key != prefix  # the empty "folder" object the S3 console makes
    ]
    return FolderPage(access.bucket, prefix, folders, objects, listing.next_token, link)


def breadcrumbs(bucket: str, prefix: str) -> list[Folder]:
    """The way from the bucket down to a folder: the bucket, then each folder on the way."""
    crumbs = [Folder(bucket, "")]
    for name in folder_prefix(prefix).split("/")[:-1]:
        crumbs.append(Folder(name, f"{crumbs[-1].prefix}{name}/"))
    return crumbs


def may_write(session: Session, actor: User, source: str, key: str) -> bool:
    """Whether the actor may write this object (restore a version, move it away), as the rule that refuses the
    write says: a page offers only what core would do."""
    return check_can_write(source_access(session, actor, source), key).allowed
