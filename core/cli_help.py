"""`gatehouse --help` that reads as what to type. Typer prints a Python type beside every parameter: `<bool>` beside a
flag, which takes no value (`--dry-run <bool>`), `<str>` beside an argument, `<list[str]>` beside a repeatable option.
Here a flag shows nothing, an argument its name, and an option that takes a value its metavar (what the value is:
USERNAME, DATE, FILE) or its choices."""

from __future__ import annotations

from functools import partial
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


def _shown_value(param: TyperArgument | TyperOption, ctx: Any) -> str | None:
    if isinstance(param, TyperArgument) or param.is_flag or param.count:
        return None
    if param.metavar:
        return str(param.metavar)
    if param.type_descriptor.is_choice:
        return param.display_type(ctx).strip("<>")  # Typer's own list of the choices: read-only|read-write|admin
    return (param.name or "value").upper()


class _ReadsNaturally:
    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]  # the help option among them
        for param in params:
            param.display_type_rich = partial(_shown_value, param)
        return params


class HelpCommand(_ReadsNaturally, TyperCommand):
    pass


class HelpGroup(_ReadsNaturally, TyperGroup):
    pass


class Commands(typer.Typer):
    """A group of `gatehouse` commands whose help reads naturally, the group's own and each command's."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cls=HelpGroup, **options)

    def command(self, *args: Any, **options: Any) -> Any:
        return super().command(*args, cls=HelpCommand, **options)
