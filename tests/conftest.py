from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.harness import Gateway, running_gateway
from tests.upstreams import MockUpstreams, running_mocks


@pytest.fixture
async def mocks() -> AsyncIterator[MockUpstreams]:
    async with running_mocks() as upstreams:
        yield upstreams


@pytest.fixture
async def gateway(mocks: MockUpstreams) -> AsyncIterator[Gateway]:
    async with running_gateway(mocks) as gw:
        yield gw
