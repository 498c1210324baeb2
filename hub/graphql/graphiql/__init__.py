"""The GraphiQL page and its browser assets, served by the hub itself (no CDN).

The page is Strawberry's GraphiQL template with its URLs pointing at `STATIC_PATH`, where
`static_files()` serves the pinned React, GraphiQL and explorer bundles (see NOTICE.md;
`make graphiql-assets` refreshes them from npm). Both exist only while GraphiQL is on.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
#: Where the assets are served; outside `/graphql`, so the bearer check never sees them.
STATIC_PATH = "/graphiql/static"

#: Folders named after a package's version (`graphiql-3.8.3/`) never change in place.
_VERSIONED = re.compile(r"^[a-z-]+-\d+\.\d+\.\d+/")
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def _template() -> str:
    return (HERE / "page.html").read_text(encoding="utf-8")


def graphiql_page(root_path: str = "") -> str:
    """The GraphiQL page, its assets under `root_path` (the app's mount point, if any)."""
    return _template().replace("{static}", root_path + STATIC_PATH)


def missing_assets() -> list[str]:
    """The files the page refers to that are not in `STATIC_DIR` (an incomplete install)."""
    referred = re.findall(r'"\{static\}/([^"]+)"', _template())
    return [name for name in referred if not (STATIC_DIR / name).is_file()]


class _AssetFiles(StaticFiles):
    """Static files with cache headers: a year for versioned bundles, revalidate the rest."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        # StaticFiles hands over the real path, so compare with the real directory.
        relative = Path(full_path).relative_to(STATIC_DIR.resolve()).as_posix()
        response.headers["Cache-Control"] = IMMUTABLE if _VERSIONED.match(relative) else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def static_files() -> ASGIApp:
    """The ASGI app serving the page's assets (GET and HEAD only), compressed when asked."""
    # graphiql.min.js is 3.5 MB, a quarter of that compressed. The fastest level: 0.1 s
    # for it instead of 0.6 s at the default, in chunks, for a few percent more bytes.
    return GZipMiddleware(_AssetFiles(directory=STATIC_DIR), minimum_size=1024, compresslevel=1)
