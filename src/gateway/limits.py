"""Cheap refusals of abusive documents, before validation and long before any upstream call.

Tokens are capped by the parser itself; depth, aliases and directives are counted on the parsed
document; the cost estimate knows list sizes: a field returning a list multiplies the cost of its
selection by the page size asked for (``first``) or by the field's typical length, so a page of 100
orders with their packages costs far more than one order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)

# Typical lengths of list fields, for the cost estimate; a paginated field uses its `first` instead.
LIST_SIZES: dict[str, int] = {
    "packages": 4, "lineItems": 8, "items": 4, "trackingEvents": 25, "tracker": 7, "steps": 7, "alerts": 4,
    "afterSalesActions": 12, "reasons": 20, "returns": 3, "lines": 8, "instructions": 6, "cancellations": 2,
    "resolutions": 3, "tags": 4, "packageIds": 4, "returnIds": 3, "nextSteps": 6, "userErrors": 4,
    "unshippedItems": 4, "cancelledItems": 4, "returnReasons": 20, "field": 3,
}
PAGINATED = {"orders", "sellerOrders"}
PAGE_CHILDREN = {"edges", "nodes"}
DEFAULT_PAGE = 10


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_directives: int = 20
    max_cost: int = 50_000
    max_fields: int = 400


class LimitExceeded(GraphQLError):
    """A document refused for its shape; ``extensions`` say which limit and by how much."""

    def __init__(self, code: str, message: str, limit: int, actual: int) -> None:
        super().__init__(message, extensions={"code": code, "limit": limit, "actual": actual})


@dataclass(frozen=True)
class Shape:
    depth: int
    aliases: int
    directives: int
    fields: int


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def measure(document: DocumentNode) -> Shape:
    """Depth (fragments counted where spread), and the aliases, directives and fields written in the
    document. Each fragment is measured once, so a fragment spread many times costs nothing extra."""
    fragments = _fragments(document)
    aliases = directives = fields = 0
    for node in _walk_nodes(document):
        directives += len(getattr(node, "directives", None) or ())
        if isinstance(node, FieldNode):
            fields += 1
            if node.alias is not None:
                aliases += 1
    depth_of: dict[str, int] = {}

    def depth(selection_set: SelectionSetNode | None, visiting: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                deepest = max(deepest, 1 + depth(selection.selection_set, visiting))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, depth(selection.selection_set, visiting))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in visiting:  # cycles are the validator's to report
                    continue
                if name not in depth_of:
                    depth_of[name] = depth(fragment.selection_set, visiting | {name})
                deepest = max(deepest, depth_of[name])
        return deepest

    deepest = max((depth(d.selection_set, frozenset()) for d in document.definitions
                   if isinstance(d, OperationDefinitionNode)), default=0)
    return Shape(deepest, aliases, directives, fields)


def _walk_nodes(document: DocumentNode) -> list[Any]:
    """Every operation, fragment and selection node of the document, once each."""
    found: list[Any] = []
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        found.append(node)
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)
    return found


def check_shape(shape: Shape, limits: Limits) -> None:
    if shape.depth > limits.max_depth:
        raise LimitExceeded("DEPTH_LIMIT_EXCEEDED", f"The query is nested {shape.depth} levels deep; the limit "
                            f"is {limits.max_depth}.", limits.max_depth, shape.depth)
    if shape.fields > limits.max_fields:
        raise LimitExceeded("FIELD_LIMIT_EXCEEDED", f"The query selects {shape.fields} fields; the limit is "
                            f"{limits.max_fields}.", limits.max_fields, shape.fields)
    if shape.aliases > limits.max_aliases:
        raise LimitExceeded("ALIAS_LIMIT_EXCEEDED", f"The query uses {shape.aliases} aliases; the limit is "
                            f"{limits.max_aliases}.", limits.max_aliases, shape.aliases)
    if shape.directives > limits.max_directives:
        raise LimitExceeded("DIRECTIVE_LIMIT_EXCEEDED", f"The query uses {shape.directives} directives; the "
                            f"limit is {limits.max_directives}.", limits.max_directives, shape.directives)


def page_size(value: Any) -> int | None:
    """A page size as the client sent it in the variables, read as GraphQL's Int reads it (50.0 is 50)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _page(field: FieldNode, variables: Mapping[str, Any] | None, defaults: Mapping[str, ValueNode]) -> int:
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, VariableNode):
            if variables is None:  # not known yet: count the smallest page, for a lower bound
                return 1
            given = page_size(variables.get(value.name.value))
            if given is not None:
                return max(0, given)
            # Left out, the variable takes its default, which costs what it would as a literal. (Any other
            # value is refused by coercion; costing it like the default keeps one cost per page size.)
            value = defaults.get(value.name.value, value)
        if isinstance(value, IntValueNode):
            return max(0, int(value.value))
    return DEFAULT_PAGE


def cost(document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any] | None) -> int:
    """Fields the operation could resolve, with list fields counted once per expected element. A fragment
    is costed once per page size it is spread under, so fragments spreading fragments stay linear.
    A page given by a variable counts as the value supplied, or else as the variable's default, exactly as
    a literal would. Without variables (``None``) it counts as 1: a lower bound, usable before validation."""
    fragments = _fragments(document)
    defaults = {d.variable.name.value: d.default_value for d in operation.variable_definitions or ()
                if d.default_value is not None}
    memo: dict[tuple[str, int], int] = {}

    def walk(selection_set: SelectionSetNode | None, page: int, visiting: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name in PAGINATED:
                    total += 1 + walk(selection.selection_set, _page(selection, variables, defaults), visiting)
                elif name in PAGE_CHILDREN:
                    total += 1 + page * walk(selection.selection_set, page, visiting)
                else:
                    size = LIST_SIZES.get(name, 1)
                    total += 1 + size * walk(selection.selection_set, page, visiting)
            elif isinstance(selection, InlineFragmentNode):
                total += walk(selection.selection_set, page, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in visiting:
                    continue
                key = (name, page)
                if key not in memo:
                    memo[key] = walk(fragment.selection_set, page, visiting | {name})
                total += memo[key]
        return total

    return walk(operation.selection_set, DEFAULT_PAGE, frozenset())


def check_cost(document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any],
               limits: Limits) -> int:
    return check_estimate(cost(document, operation, variables), limits)


def check_estimate(estimated: int, limits: Limits) -> int:
    if estimated > limits.max_cost:
        raise LimitExceeded("COST_LIMIT_EXCEEDED", f"The query could resolve about {estimated} fields; the limit "
                            f"is {limits.max_cost}. Ask for fewer items per page or fewer fields.",
                            limits.max_cost, estimated)
    return estimated
