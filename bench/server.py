"""The app the benchmark serves: the hub as `create_app()` builds it, plus the floor route.

    uvicorn --factory bench.server:create_bench_app --workers 2

Configuration comes from the `HUB_*` variables exactly as for `hub serve`; the floor
(`bench.floor`) is appended to the hub's routes so that both answer from the same worker
processes, the same engine and the same pool, and the comparison between them is fair.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from bench.floor import FLOOR_PATH, floor_endpoint
from hub.app import create_app
from hub.settings import Settings


def add_floor(app: Starlette) -> Starlette:
    """`app` with `GET /bench/floor` served from its own engine."""
    app.router.routes.append(Route(FLOOR_PATH, floor_endpoint(app.state.engine), methods=["GET"]))
    return app


def create_bench_app(settings: Settings | None = None) -> Starlette:
    """The hub configured from the environment (or `settings`), with the floor route, as
    `hub serve` runs it (its worker freezes the start-up heap: `create_served_app`)."""
    return add_floor(create_app(settings, freeze_gc=True))
