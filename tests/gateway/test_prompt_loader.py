"""The loaders' batching: the same batches as aiodataloader's, sent a loop turn after the first load."""

from __future__ import annotations

import asyncio

import pytest

from gateway.loaders import PromptLoader


class Recorder:
    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def load(self, keys: list[str]) -> list[str | Exception]:
        self.batches.append(list(keys))
        return [ValueError(k) if k.startswith("bad") else k.upper() for k in keys]


async def test_loads_of_one_turn_leave_as_one_batch_on_the_next_turn() -> None:
    batch = Recorder()
    loader: PromptLoader[str, str] = PromptLoader(batch.load)  # type: ignore[arg-type]
    a, b, again = loader.load("a"), loader.load("b"), loader.load("a")
    assert batch.batches == []
    await asyncio.sleep(0)  # aiodataloader's own dispatch would still be two turns away
    assert batch.batches == [["a", "b"]]
    assert await asyncio.gather(a, b, again) == ["A", "B", "A"]


async def test_a_load_made_after_the_dispatch_starts_a_new_batch() -> None:
    batch = Recorder()
    loader: PromptLoader[str, str] = PromptLoader(batch.load)  # type: ignore[arg-type]
    first = loader.load("a")
    await asyncio.sleep(0)
    second = loader.load("b")
    assert await asyncio.gather(first, second) == ["A", "B"]
    assert batch.batches == [["a"], ["b"]]


async def test_batches_respect_the_largest_size_and_fail_keys_alone() -> None:
    batch = Recorder()
    loader: PromptLoader[str, str] = PromptLoader(batch.load, max_batch_size=2)  # type: ignore[arg-type]
    futures = [loader.load(k) for k in ("a", "b", "bad", "d", "e")]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert batch.batches == [["a", "b"], ["bad", "d"], ["e"]]
    assert results[:2] == ["A", "B"] and results[3:] == ["D", "E"]
    with pytest.raises(ValueError, match="bad"):
        raise results[2]  # type: ignore[misc]
