"""The GraphQL schema (code-first); ``schema.graphql`` at the repo root is generated from it."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from gateway.errors import GatewayError
from gateway.schema.mutation import Mutation
from gateway.schema.query import Query

logger = logging.getLogger("gateway.errors")


class GatewaySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if isinstance(error.original_error, GatewayError):
                # Expected: an upstream outage, a bad argument, a missing order. One line, no traceback.
                logger.info("%s: %s", error.original_error.code, error.message)
            else:
                StrawberryLogger.error(error, execution_context)


schema = GatewaySchema(query=Query, mutation=Mutation)

__all__ = ["schema"]
