"""GraphiQL in a real headless browser, with no internet: paste the demo's headers, run the
foundation's query, see its rows.

A real uvicorn on loopback serves the city `hub demo` seeds; Debian's chromium, driven by
playwright (its driver ships in the wheel; the system browser is used, nothing downloaded),
loads the page. Offline is enforced twice: the browser resolves no host name but 127.0.0.1,
and every request the page makes to anywhere else is aborted and recorded (the test fails
on any). The page is also served under a strict Content Security Policy (added by the test:
the hub sets none), and any violation fails the test.

Set `HUB_GRAPHIQL_SCREENSHOT=docs/graphiql.png` to refresh the README's screenshot.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from rich.console import Console

from hub.auth.demo import DemoCredential
from hub.cli.demo import DEMO_CITIZENS, DEMO_SEED, FOUNDATION_QUERY, prepare_demo
from hub.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: No inline script or style, nothing from elsewhere; GraphiQL's CSS embeds its fonts as
#: data: URLs, the one exception.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Recorded in the page before any of its scripts run.
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
"""
RESULT = "document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_ready(base_url: str, server: asyncio.subprocess.Process) -> None:
    # Start-up (imports, the schema) takes a few seconds alone and several times that on a
    # loaded machine: wait as long as the server lives, up to a generous bound.
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        for _ in range(1200):
            if server.returncode is not None:
                raise AssertionError(f"the server exited with {server.returncode}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the server did not start in 120 s")


@pytest.fixture
async def demo_hub(empty_database_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, Any]]:
    """`hub demo` on loopback, on a free port: its base URL and the foundation's credential."""
    port = _free_port()
    env = {
        **os.environ,
        "HUB_DATABASE_URL": empty_database_url,
        "HUB_VAR_DIR": str(tmp_path / "var"),
        "HUB_PORT": str(port),
        "NO_PROXY": "127.0.0.1",
    }
    # The demo and the server read the same settings, so the same keys and token issuer.
    credentials = await prepare_demo(
        Settings.from_env(env),
        citizens=DEMO_CITIZENS,
        seed=DEMO_SEED,
        console=Console(file=io.StringIO()),
    )
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "hub.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        base_url = f"http://127.0.0.1:{port}"
        await _wait_ready(base_url, server)
        foundation = next(c for c in credentials if c.role == "lks_partner")
        yield base_url, foundation
    finally:
        if server.returncode is None:
            server.terminate()
        await server.wait()


async def test_graphiql_runs_the_foundations_query_offline(
    demo_hub: tuple[str, DemoCredential], tmp_path: Path
) -> None:
    from playwright.async_api import Request, Route, async_playwright

    base_url, foundation = demo_hub
    outside: list[str] = []
    graphql_posts: list[dict[str, str]] = []

    async def only_loopback(route: Route, request: Request) -> None:
        url = urlsplit(request.url)
        if url.hostname != "127.0.0.1":
            outside.append(request.url)
            await route.abort("internetdisconnected")
        elif request.resource_type == "document":
            response = await route.fetch()
            await route.fulfill(
                response=response,
                headers={**response.headers, "content-security-policy": CSP},
            )
        else:
            if url.path == "/graphql" and request.method == "POST":
                graphql_posts.append(await request.all_headers())
            await route.continue_()

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        )
        try:
            context = await browser.new_context(
                viewport={"width": 1440, "height": 900}, service_workers="block"
            )
            await context.route("**/*", only_loopback)
            await context.add_init_script(CSP_PROBE)
            page = await context.new_page()
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))

            await page.goto(f"{base_url}/graphql", wait_until="load")
            query_editor = page.locator(".graphiql-query-editor .CodeMirror")
            await query_editor.wait_for(timeout=15_000)

            # Paste the demo's headers into the Headers tab, as a newcomer does.
            await page.locator(".graphiql-editor-tools button", has_text="Headers").click()
            headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)")
            await headers_editor.click()
            await page.keyboard.press("Control+A")
            await page.keyboard.insert_text(foundation.graphiql_headers)

            # The README's foundation query (the demo's), in place of the welcome text.
            kecamatan = "32.73.12"
            await query_editor.click()
            await page.keyboard.press("Control+A")
            await page.keyboard.insert_text(FOUNDATION_QUERY % kecamatan)
            await page.locator(".graphiql-execute-button").click()
            await (
                page.locator(".result-window").get_by_text('"totalCount"').wait_for(timeout=15_000)
            )

            result = json.loads(await page.evaluate(RESULT))
            if screenshot := os.environ.get("HUB_GRAPHIQL_SCREENSHOT"):
                await page.screenshot(path=ROOT / screenshot)
            await page.screenshot(path=tmp_path / "graphiql.png")
            violations = await page.evaluate("window.__cspViolations")
        except Exception as error:
            # A page stuck on "Loading…" times out above: say what it tried to reach.
            blocked = await page.evaluate("window.__cspViolations")
            raise AssertionError(
                f"GraphiQL failed; requests outside loopback: {outside}; blocked by the CSP: "
                f"{blocked}"
            ) from error
        finally:
            # What the browser showed last, kept with the test's files (pytest --basetemp).
            for opened in browser.contexts[0].pages if browser.contexts else []:
                await opened.screenshot(path=tmp_path / "graphiql-last.png")
            await browser.close()

    assert outside == [], f"the page tried to leave loopback: {outside}"
    assert violations == [], f"Content Security Policy violations: {violations}"
    assert page_errors == [], page_errors
    assert "errors" not in result, result
    needs = result["data"]["needs"]
    assert needs["totalCount"] >= 10
    assert {n["kecamatan"]["name"] for n in needs["nodes"]} == {"Batununggal"}
    # GraphiQL sent what was pasted into its Headers tab.
    sent = graphql_posts[-1]
    assert sent["authorization"] == f"Bearer {foundation.access_token}"
    assert sent["x-purpose"] == "SERVICE_DELIVERY"
