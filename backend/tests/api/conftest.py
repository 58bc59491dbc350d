"""Fixtures of the api tests: a started app on the test settings, and a broker that is down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from api_harness import Api, running_api

from mus.core.config import Settings

from tests.process_probes import free_port


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    """The app on the test settings: watcher and initial scan off, no SECRET_KEY."""
    async with running_api(settings) as started:
        yield started


@pytest.fixture
def dead_broker_settings(settings: Settings) -> Settings:
    """The test settings with REDIS_URL on a closed port."""
    return settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
