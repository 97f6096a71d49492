"""The ASGI application `gatehouse serve` runs: one Gatehouse (core.startup.start, the same settings as the app and
the CLI) shared by the routers mounted under it. SCIM 2.0 is at /scim/v2; a REST API will sit beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount

from core.actions.scim_token import keep_environment_token
from core.context import Gatehouse
from core.service import scim


def make_app(gatehouse: Gatehouse) -> Starlette:
    keep_environment_token(gatehouse)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(gatehouse.settle)  # joiners' roles still being made, made before it stops

    app = Starlette(routes=[Mount("/scim/v2", app=scim.router())], lifespan=lifespan)
    app.state.gatehouse = gatehouse
    return app
