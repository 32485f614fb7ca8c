from __future__ import annotations

from pathlib import Path

from gateway.schema import schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_is_generated_from_the_code() -> None:
    assert SDL.read_text() == schema.as_str() + "\n", "schema.graphql drifted: run `make schema`"
