"""The GraphQL schema (code-first); ``schema.graphql`` at the repo root is generated from it."""

from __future__ import annotations

import strawberry

from gateway.schema.mutation import Mutation
from gateway.schema.query import Query

schema = strawberry.Schema(query=Query, mutation=Mutation)

__all__ = ["schema"]
