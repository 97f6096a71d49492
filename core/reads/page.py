"""One page of a list read from the database, and how many there are in all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


def fetch(session: Session, query: Any, order: tuple[Any, ...], offset: int, limit: int | None) -> tuple[list, int]:
    """One page of the query's rows and how many rows there are in all: counted only when the page is not all."""
    rows = list(session.exec(query.order_by(*order).offset(offset).limit(limit)))
    if offset == 0 and (limit is None or len(rows) < limit):
        return rows, len(rows)
    return rows, int(session.exec(select(func.count()).select_from(query.subquery())).one())
