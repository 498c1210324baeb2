"""The app `hub serve` gives uvicorn: its worker freezes the start-up heap; tests' apps do not."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from hub.app import create_app, create_served_app
from hub.settings import Settings


async def test_a_served_worker_freezes_its_start_up_heap(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", empty_database_url)
    monkeypatch.setenv("HUB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_PLEDGE_SWEEP_SECONDS", "0")
    gc.unfreeze()
    try:
        app = create_served_app()
        async with app.router.lifespan_context(app):
            # The modules, the schema and the policy: what full collections no longer walk.
            assert gc.get_freeze_count() > 50_000
    finally:
        gc.unfreeze()


async def test_an_app_built_by_create_app_freezes_nothing(
    empty_database_url: str, tmp_path: Path
) -> None:
    gc.unfreeze()
    settings = Settings(database_url=empty_database_url, var_dir=tmp_path, pledge_sweep_seconds=0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
