from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.upstreams import MockUpstreams, running_mocks


@pytest.fixture
async def mocks() -> AsyncIterator[MockUpstreams]:
    async with running_mocks() as upstreams:
        yield upstreams
