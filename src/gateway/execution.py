"""Preparing and running GraphQL documents: parse and validate once per document text, then execute.

A prepared document (parsed, shape-checked, validated) is cached by its text in a bounded LRU, so the
same query is parsed and validated once per process, not once per request. Execution goes straight to
graphql-core with the Strawberry-built schema. Errors are formatted here: expected ones (a
:class:`GatewayError`, a validation error) keep their message and code; anything unexpected is
logged with a correlation id and, in production, masked.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.pyutils import is_awaitable
from graphql.validation import NoSchemaIntrospectionCustomRule

from gateway.errors import GatewayError
from gateway.fastpath import Compiler, Plan, Unsupported
from gateway.limits import LimitExceeded, Limits, check_estimate, check_shape, cost, measure, page_size
from gateway.needs import order_record_suffices

logger = logging.getLogger("gateway.errors")
_SUGGESTION = re.compile(r"\s*Did you mean .*?\?$")


@dataclass(frozen=True)
class Prepared:
    """A document ready to run, or the errors that stop it (syntax, shape, validation). Compiled plans
    (``gateway.fastpath``) are kept here too, per operation, so they live as long as the document."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    operations: Mapping[str | None, OperationDefinitionNode]
    plans: dict[str | None, Plan | None] = field(default_factory=dict)
    costs: dict[tuple[Any, ...], int] = field(default_factory=dict)
    record_only: dict[str | None, bool] = field(default_factory=dict)

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        if name is None:
            return next(iter(self.operations.values())) if len(self.operations) == 1 else None
        return self.operations.get(name)

    def plan(self, name: str | None, compiler: Compiler) -> Plan | None:
        """The compiled plan for an operation, or None when it must run on graphql-core."""
        if name not in self.plans:
            operation = self.operation(name)
            assert operation is not None and self.document is not None
            try:
                self.plans[name] = compiler.compile(self.document, operation)
            except Unsupported:
                self.plans[name] = None
        return self.plans[name]

    def order_record_suffices(self, name: str | None, schema: GraphQLSchema) -> bool:
        """Whether the operation asks only for orders' own facts (``gateway.needs``), remembered."""
        if name not in self.record_only:
            operation = self.operation(name)
            assert operation is not None and self.document is not None
            self.record_only[name] = order_record_suffices(schema, self.document, operation)
        return self.record_only[name]

    def cost(self, operation: OperationDefinitionNode, variables: Mapping[str, Any]) -> int:
        """The operation's cost, remembered per page sizes asked (the only variables it depends on)."""
        pages = tuple(sorted((k, n) for k, v in variables.items() if (n := page_size(v)) is not None))
        key = (operation.name.value if operation.name else None, pages)
        found = self.costs.get(key)
        if found is None:
            assert self.document is not None
            found = self.costs[key] = cost(self.document, operation, variables)
            if len(self.costs) > 64:  # bounded: a client cycling page sizes cannot grow it
                self.costs.pop(next(iter(self.costs)))
        return found


class Documents:
    """Parses, checks and validates documents, once per text (bounded LRU)."""

    def __init__(self, schema: GraphQLSchema, limits: Limits, *, max_tokens: int, max_length: int,
                 introspection: bool, suggestions: bool, capacity: int = 1_000,
                 on_lookup: Callable[[bool], None] | None = None) -> None:
        self.schema, self.limits = schema, limits
        self.max_tokens, self.max_length = max_tokens, max_length
        self.rules = [*specified_rules, *([] if introspection else [NoSchemaIntrospectionCustomRule])]
        self.suggestions = suggestions
        self.capacity = capacity
        self._cache: OrderedDict[str, Prepared] = OrderedDict()
        self.hits = 0
        self.misses = 0
        self.on_lookup = on_lookup

    def prepare(self, query: str) -> Prepared:
        cached = self._cache.get(query)
        if self.on_lookup is not None:
            self.on_lookup(cached is not None)
        if cached is not None:
            self.hits += 1
            self._cache.move_to_end(query)
            return cached
        self.misses += 1
        prepared = self._prepare(query)
        self._cache[query] = prepared
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> Prepared:
        if len(query) > self.max_length:
            error = LimitExceeded("DOCUMENT_TOO_LARGE", f"The document is {len(query)} characters long; the limit "
                                  f"is {self.max_length}.", self.max_length, len(query))
            return Prepared(None, (error,), {})
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except GraphQLError as syntax:
            if "tokens" in syntax.message and "more than" in syntax.message:
                refused: GraphQLError = LimitExceeded(
                    "TOKEN_LIMIT_EXCEEDED", f"The document has more than {self.max_tokens} tokens.",
                    self.max_tokens, self.max_tokens + 1)
            else:
                syntax.extensions = {**(syntax.extensions or {}), "code": "GRAPHQL_PARSE_FAILED"}
                refused = syntax
            return Prepared(None, (refused,), {})
        try:
            check_shape(measure(document), self.limits)
            # Even before validation, a document whose cheapest reading is over the cost limit is refused:
            # validating a fragment bomb would itself take exponential time.
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    check_estimate(cost(document, definition, None), self.limits)
        except LimitExceeded as too_big:
            return Prepared(None, (too_big,), {})
        errors = validate(self.schema, document, self.rules, max_errors=20, hide_suggestions=not self.suggestions)
        if errors:
            for invalid in errors:
                if not self.suggestions:
                    invalid.message = _SUGGESTION.sub("", invalid.message)
                invalid.extensions = {**(invalid.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
            return Prepared(None, tuple(errors), {})
        operations = {d.name.value if d.name else None: d for d in document.definitions
                      if isinstance(d, OperationDefinitionNode)}
        return Prepared(document, (), operations)


def is_mutation(operation: OperationDefinitionNode) -> bool:
    return operation.operation is OperationType.MUTATION


async def run(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None,
              variables: Mapping[str, Any] | None, context: Any, *, suggestions: bool) -> ExecutionResult:
    result = execute(schema, document, context_value=context, variable_values=dict(variables or {}),
                     operation_name=operation_name, hide_suggestions=not suggestions)
    if is_awaitable(result):
        result = await result
    assert isinstance(result, ExecutionResult)
    return result


def formatted(error: GraphQLError) -> dict[str, Any]:
    return dict(error.formatted)


def request_error(error: GraphQLError) -> dict[str, Any]:
    """A variable that did not coerce: the client's mistake, told as it is (never masked, never logged)."""
    result = formatted(error)
    result["extensions"] = {**(result.get("extensions") or {}), "code": "BAD_USER_INPUT"}
    return result


def format_error(error: GraphQLError, *, mask: bool, correlation_id: str) -> dict[str, Any]:
    original = error.original_error
    if original is None or isinstance(original, GatewayError):
        result = formatted(error)
        if isinstance(original, GatewayError):
            result["extensions"] = original.extensions
        return result
    # A bug: log everything, tell the client only how to find it in the logs.
    logger.error("unexpected error (correlation id %s) at %s", correlation_id, error.path, exc_info=original)
    result = formatted(error)
    if mask:
        result["message"] = f"Unexpected error. Correlation id: {correlation_id}"
    result["extensions"] = {"code": "INTERNAL_SERVER_ERROR", "correlationId": correlation_id}
    return result


def is_request_error(result: Any) -> bool:
    """Variable coercion failed: nothing ran, and no error points at a field."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(e.path is None for e in errors)
