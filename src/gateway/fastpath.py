"""A compiled executor for queries: the validated document becomes a plan once, then each request walks it.

graphql-core resolves every field through the same general machinery (resolve info, type checks,
awaitable checks, Strawberry's argument and extension wrappers): about 3 of the 4.5 ms of CPU an order
page took. Here a query operation is compiled, once per document, into a tree of field plans: for each
selected field, a direct accessor on the Strawberry object (attribute or resolver function), the shape
of its type (list, non-null, object fields, leaf serializer) and its response key. Executing the plan
resolves the root fields (the only async ones) concurrently, then completes the rest in plain Python.

GraphQL semantics are kept: aliases and merged fields, fragments, literal @skip/@include, __typename,
field errors recorded with path and locations, nulls propagated to the nearest nullable field, list
items, variable coercion by graphql-core. Anything the compiler does not handle (mutations,
variable-dependent directives, abstract types, arguments or async resolvers below the root) returns
no plan, and the document runs on graphql-core instead. A differential test runs both executors on
the same documents and requires identical answers.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_argument_values,
)
from graphql.execution.values import VariableValues
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


class Unsupported(Exception):
    """The document needs graphql-core's general executor."""


class _Null(Exception):
    """A null reached a non-null position: the nearest nullable ancestor becomes null."""


@dataclass
class ResolverInfo:
    """What our resolvers read from Strawberry's Info: the request context, and a root field's path
    (for errors reported beside its data, see ``Context.notice``)."""

    context: Any
    path: tuple[str | int, ...] = ()


@dataclass
class Shape:
    non_null: bool
    item: Shape | None = None  # the element shape, for lists
    leaf: Callable[[Any], Any] | None = None
    fields: list[FieldPlan] | None = None


@dataclass
class FieldPlan:
    key: str
    nodes: list[FieldNode]
    label: str  # Parent.field, for the non-null error message
    get: Callable[[Any, ResolverInfo], Any]
    shape: Shape


@dataclass
class RootPlan:
    key: str
    nodes: list[FieldNode]
    label: str
    graphql_field: Any
    strawberry_field: Any
    shape: Shape


@dataclass
class Plan:
    roots: list[RootPlan]
    errors: list[GraphQLError] = field(default_factory=list)


@dataclass
class Result:
    data: dict[str, Any] | None
    errors: list[GraphQLError]


def _scalar(t: GraphQLScalarType) -> Callable[[Any], Any]:
    if t.name in ("String", "ID"):
        return str
    if t.name == "Boolean":
        return bool
    if t.name == "Int":
        return int
    if t.name == "Float":
        return float
    return t.serialize


def _enum(t: GraphQLEnumType) -> Callable[[Any], Any]:
    # Strawberry matches a Python member to the GraphQL value holding the member's value.
    names = {v.value: name for name, v in t.values.items()}
    return lambda member: names[member.value]


class Compiler:
    def __init__(self, strawberry_schema: Any) -> None:
        self.strawberry = strawberry_schema
        self.schema = strawberry_schema._schema
        self._leaves: dict[str, Callable[[Any], Any]] = {}

    def compile(self, document: DocumentNode, operation: OperationDefinitionNode) -> Plan:
        if operation.operation is not OperationType.QUERY:
            raise Unsupported("only queries are compiled")
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        query = self.schema.query_type
        roots = []
        for key, nodes in self._collect(query, [operation.selection_set], fragments).items():
            name = nodes[0].name.value
            if name == "__typename":
                raise Unsupported("__typename at the root")
            if name.startswith("__"):
                raise Unsupported("introspection")
            gql_field = query.fields[name]
            sf = gql_field.extensions.get(BACKREF)
            if sf is None or sf.base_resolver is None or sf.extensions:
                raise Unsupported(f"root field {name}")
            shape = self._shape(gql_field.type, nodes, fragments)
            roots.append(RootPlan(key, nodes, f"Query.{name}", gql_field, sf, shape))
        return Plan(roots)

    def _collect(self, parent: GraphQLObjectType, selection_sets: list[SelectionSetNode],
                 fragments: Mapping[str, FragmentDefinitionNode]) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}

        def included(node: Any) -> bool:
            for directive in node.directives or ():
                name = directive.name.value
                if name not in ("skip", "include"):
                    raise Unsupported(f"directive @{name}")
                value = directive.arguments[0].value
                if not isinstance(value, BooleanValueNode):
                    raise Unsupported("a directive that depends on a variable")
                if (name == "skip") == value.value:
                    return False
            return True

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    if condition is None or condition.name.value == parent.name:
                        visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = fragments[selection.name.value]
                    if fragment.type_condition.name.value == parent.name:
                        visit(fragment.selection_set)

        for selection_set in selection_sets:
            visit(selection_set)
        return fields

    def _shape(self, t: GraphQLOutputType, nodes: list[FieldNode],
               fragments: Mapping[str, FragmentDefinitionNode]) -> Shape:
        non_null = isinstance(t, GraphQLNonNull)
        inner = t.of_type if isinstance(t, GraphQLNonNull) else t
        if isinstance(inner, GraphQLList):
            return Shape(non_null, item=self._shape(inner.of_type, nodes, fragments))
        if isinstance(inner, GraphQLEnumType):
            return Shape(non_null, leaf=_enum(inner))
        if isinstance(inner, GraphQLScalarType):
            return Shape(non_null, leaf=_scalar(inner))
        if not isinstance(inner, GraphQLObjectType):
            raise Unsupported(f"abstract type {inner}")
        selection_sets = [n.selection_set for n in nodes if n.selection_set is not None]
        plans = []
        for key, field_nodes in self._collect(inner, selection_sets, fragments).items():
            plans.append(self._field(inner, key, field_nodes, fragments))
        return Shape(non_null, fields=plans)

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode],
               fragments: Mapping[str, FragmentDefinitionNode]) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            typename = parent.name
            return FieldPlan(key, nodes, f"{parent.name}.__typename", lambda obj, info: typename, Shape(True, leaf=str))
        if name.startswith("__"):
            raise Unsupported("introspection")
        gql_field = parent.fields[name]
        sf = gql_field.extensions.get(BACKREF)
        if sf is None or sf.extensions or any(n.arguments for n in nodes):
            raise Unsupported(f"field {parent.name}.{name}")
        resolver = sf.base_resolver
        get: Callable[[Any, ResolverInfo], Any]
        if resolver is None:
            attribute = attrgetter(sf.python_name)
            get = lambda obj, info: attribute(obj)  # noqa: E731 - the plan stores plain callables
        else:
            function = resolver.wrapped_func
            if resolver.arguments or inspect.iscoroutinefunction(function) or not resolver.self_parameter:
                raise Unsupported(f"resolver {parent.name}.{name}")
            info_parameter = resolver.info_parameter
            if info_parameter is None:
                get = lambda obj, info: function(obj)  # noqa: E731
            else:
                info_name = info_parameter.name
                get = lambda obj, info: function(obj, **{info_name: info})  # noqa: E731
        return FieldPlan(key, nodes, f"{parent.name}.{name}", get, self._shape(gql_field.type, nodes, fragments))


class _Path:
    """A response path, built only when an error needs it."""

    __slots__ = ("key", "prev")

    def __init__(self, prev: _Path | None, key: str | int) -> None:
        self.prev, self.key = prev, key

    def as_list(self) -> list[str | int]:
        keys: list[str | int] = []
        node: _Path | None = self
        while node is not None:
            keys.append(node.key)
            node = node.prev
        return keys[::-1]


class _Run:
    def __init__(self, info: ResolverInfo) -> None:
        self.info = info
        self.errors: list[GraphQLError] = []

    def error(self, message: str, nodes: list[FieldNode], path: _Path, original: Exception | None = None) -> None:
        self.errors.append(GraphQLError(message, nodes=nodes, path=path.as_list(), original_error=original))

    def complete(self, shape: Shape, value: Any, path: _Path, plan: FieldPlan | RootPlan) -> Any:
        if value is None:
            if shape.non_null:
                self.error(f"Cannot return null for non-nullable field {plan.label}.", plan.nodes, path)
                raise _Null
            return None
        if shape.leaf is not None:
            return shape.leaf(value)
        if shape.item is not None:
            item = shape.item
            out = []
            for index, element in enumerate(value):
                try:
                    out.append(self.complete(item, element, _Path(path, index), plan))
                except _Null:
                    if item.non_null:
                        raise
                    out.append(None)
            return out
        assert shape.fields is not None
        return self.fields(shape.fields, value, path)

    def fields(self, plans: list[FieldPlan], obj: Any, path: _Path | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        info = self.info
        for plan in plans:
            try:
                value = plan.get(obj, info)
            except Exception as error:
                here = _Path(path, plan.key)
                self.error(str(error), plan.nodes, here, error)
                if plan.shape.non_null:
                    raise _Null from None
                result[plan.key] = None
                continue
            shape = plan.shape
            if shape.leaf is not None and value is not None:
                result[plan.key] = shape.leaf(value)
                continue
            try:
                result[plan.key] = self.complete(shape, value, _Path(path, plan.key), plan)
            except _Null:
                if shape.non_null:
                    raise
                result[plan.key] = None
        return result


async def execute(strawberry_schema: Any, plan: Plan, variables: VariableValues, context: Any) -> Result:
    run = _Run(ResolverInfo(context))

    async def resolve(root: RootPlan) -> Any:
        sf = root.strawberry_field
        raw = get_argument_values(root.graphql_field, root.nodes[0], variables)
        kwargs = convert_arguments(raw, sf.arguments, config=strawberry_schema.config,
                                   scalar_registry=strawberry_schema.schema_converter.scalar_registry)
        resolver = sf.base_resolver
        if resolver.info_parameter is not None:
            kwargs[resolver.info_parameter.name] = ResolverInfo(context, (root.key,))
        value = resolver.wrapped_func(None, **kwargs)
        if inspect.isawaitable(value):
            value = await value
        return value

    outcomes = await asyncio.gather(*(resolve(root) for root in plan.roots), return_exceptions=True)
    data: dict[str, Any] = {}
    lost = False  # a non-null root field failed: the whole data is null (errors of the others still count)
    for root, outcome in zip(plan.roots, outcomes, strict=True):
        path = _Path(None, root.key)
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome
            run.error(str(outcome), root.nodes, path, outcome)
            lost = lost or root.shape.non_null
            data[root.key] = None
            continue
        try:
            data[root.key] = run.complete(root.shape, outcome, path, root)
        except _Null:
            lost = lost or root.shape.non_null
            data[root.key] = None
    return Result(None if lost else data, run.errors)
