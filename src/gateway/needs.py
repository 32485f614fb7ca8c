"""Which upstreams an operation needs before its orders can be answered.

Most of an order is derived from three sources together: its status, packages, trackers, alerts and
after-sales actions all read the order, its trackings and its after-sales records. But some fields
are the order service's own facts (ids, dates, seller, items, prices, address), and a query asking
only for those (an order list's rows, a receipt) is answered from the order alone: it neither waits
for the carrier or the after-sales service nor fails with them.

The list below is of fields known to read nothing but the order record. Anything not on it needs
the whole order, so a field added later is safe by default. Fields under ``@skip``/``@include`` count
as asked: the decision is made once per document, before variables are known.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
)

# Type -> the fields that read nothing beyond the order record (or nothing of an order at all).
_OWN_FACTS: dict[str, frozenset[str]] = {
    "Query": frozenset({"order", "orders", "sellerOrders", "viewer", "returnReasons", "cancelReasons"}),
    "OrderConnection": frozenset({"edges", "nodes", "pageInfo", "totalCount"}),
    "OrderEdge": frozenset({"cursor", "node"}),
    "PageInfo": frozenset({"hasNextPage", "endCursor"}),
    "Order": frozenset({"id", "market", "timeZone", "locale", "currency", "placedAt", "paidAt", "seller",
                        "lineItems", "totals", "shippingAddress", "deliveryMethod"}),
    "LineItem": frozenset({"id", "productId", "skuId", "name", "variant", "imageUrl", "customization",
                           "quantity", "unitPrice", "total", "tags"}),
    "OrderTotals": frozenset({"subtotal", "shipping", "tax", "total"}),
    "Money": frozenset({"amount", "currency", "formatted", "minorUnits"}),
    "Seller": frozenset({"id", "name"}),
    "Address": frozenset({"name", "line1", "line2", "city", "region", "postalCode", "country"}),
    # No order behind these at all.
    "Viewer": frozenset({"id", "role", "shopId"}),
    "ReturnReasonOption": frozenset({"code", "label", "category", "deadline", "basis", "resolutions"}),
    "CancelReasonOption": frozenset({"code", "label"}),
}


def order_record_suffices(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> bool:
    """True when every field the operation asks for is one of the order's own facts."""
    if operation.operation is not OperationType.QUERY:
        return False  # a mutation decides on the whole order
    root = schema.query_type
    assert root is not None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return all(field in _OWN_FACTS.get(parent, frozenset())
               for parent, field in _asked(schema, root, operation.selection_set, fragments, set()))


def _asked(schema: GraphQLSchema, parent: GraphQLNamedType, selections: SelectionSetNode,
           fragments: dict[str, FragmentDefinitionNode], spread: set[str]) -> Iterator[tuple[str, str]]:
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name.startswith("__"):
                continue  # __typename and friends read nothing
            yield parent.name, name
            if selection.selection_set is not None and isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                child = get_named_type(parent.fields[name].type)
                yield from _asked(schema, child, selection.selection_set, fragments, spread)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            assert target is not None
            yield from _asked(schema, target, selection.selection_set, fragments, spread)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in spread:
            definition = fragments[selection.name.value]
            target = schema.get_type(definition.type_condition.name.value)
            assert target is not None
            yield from _asked(schema, target, definition.selection_set, fragments, spread | {selection.name.value})
