from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mocks.service import MockConfig
from tests.mocks.contract import Contract
from tests.upstreams import TEST_NOW, MockUpstreams, running_mocks

GENERATED = 500


@pytest.fixture
def contract(mocks: MockUpstreams) -> Contract:
    return Contract(mocks)


@pytest.fixture
async def big_mocks() -> AsyncIterator[MockUpstreams]:
    """The three mocks with the named scenarios plus 500 generated orders."""
    async with running_mocks(MockConfig(now=TEST_NOW, generated=GENERATED)) as upstreams:
        yield upstreams
