"""The ASGI application `gatehouse serve` runs: one Gatehouse (core.startup.start, the same settings as the app and
the CLI) shared by the routers mounted under it. SCIM 2.0 is at /scim/v2; a REST API will sit beside it."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount

from core.actions.scim_token import keep_environment_token
from core.context import Gatehouse
from core.service import scim


def make_app(gatehouse: Gatehouse) -> Starlette:
    keep_environment_token(gatehouse)
    app = Starlette(routes=[Mount("/scim/v2", app=scim.router())])
    app.state.gatehouse = gatehouse
    return app
