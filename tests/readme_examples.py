"""The README's example queries, run for real: ``python -m tests.readme_examples`` rewrites their outputs,
and ``tests/test_readme.py`` fails when the README no longer shows what the gateway answers.

Each example is one or more steps (a GraphQL document, its variables, who asks) run against fresh
mocks with the clock pinned at TEST_NOW; the README holds the document and the JSON it returned,
between ``<!-- example:NAME -->`` and ``<!-- /example:NAME -->``.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.auth import Role
from tests.harness import ALICE, OLIVIA, running_gateway
from tests.upstreams import running_mocks

README = Path(__file__).resolve().parents[1] / "README.md"


@dataclass(frozen=True)
class Step:
    document: str
    variables: dict[str, Any] = field(default_factory=dict)
    as_: str = ALICE
    role: Role = Role.BUYER
    shop_id: str | None = None
    # Faults to inject before this step: (service, fault fields).
    faults: tuple[tuple[str, dict[str, Any]], ...] = ()


@dataclass(frozen=True)
class Example:
    name: str
    steps: tuple[Step, ...]


EXAMPLES: tuple[Example, ...] = (
    Example("single-package", (Step("""query Tracker($id: ID!) {
  order(id: $id) {
    status displayStatus statusLabel
    packages {
      status carrier { name } trackingNumber
      eta { earliest latest revised }
      tracker { kind state time description }
    }
  }
}""", {"id": "ord-us-in-transit"}),)),
    Example("split-order", (Step("""query Split($id: ID!) {
  order(id: $id) {
    statusLabel
    tracker { headline }
    packages {
      number status
      split { reason explanation }
      items { quantity lineItem { name } }
      eta { earliest latest }
    }
  }
}""", {"id": "ord-us-split-backorder"}),)),
    Example("abnormal", (Step("""query Abnormal($id: ID!) {
  order(id: $id) {
    displayStatus statusLabel
    alerts { kind severity title cause nextStep revisedDate suggestedAction }
    packages { tracker { kind state } }
  }
}""", {"id": "ord-uk-customs-hold"}, as_=OLIVIA),)),
    Example("actions", (Step("""query Actions($id: ID!) {
  order(id: $id) {
    afterSalesActions {
      kind available message unavailableReason deadline
      items { quantity lineItem { name } note reasons { code } }
    }
  }
}""", {"id": "ord-us-delivered-final-sale"}),)),
    Example("history", (Step("""query History($filter: OrderHistoryFilter) {
  orders(first: 3, filter: $filter) {
    edges { node { id placedAt displayStatus statusLabel } }
    pageInfo { hasNextPage endCursor }
  }
}""", {"filter": {"displayStatus": ["DELAYED", "DELIVERY_ISSUE"]}}),)),
    Example("return-flow", (
        Step("""query ReturnOptions($id: ID!) {
  order(id: $id) {
    lineItems { id name quantity }
    afterSalesActions { kind available }
  }
}""", {"id": "ord-us-delivered"}),
        Step("""mutation RequestReturn($input: RequestReturnInput!) {
  requestReturn(input: $input) {
    userErrors { field code message }
    return { id status lines { quantity reason lineItem { name } } }
    nextSteps { step title detail }
  }
}""", {"input": {"orderId": "ord-us-delivered", "idempotencyKey": "readme-return-1",
                 "items": [{"lineItemId": "ord-us-delivered-l1", "reason": "DOES_NOT_FIT"},
                           {"lineItemId": "ord-us-delivered-l2", "quantity": 2, "reason": "DAMAGED",
                            "note": "Seam torn on arrival"}]}}),
        Step("""mutation AddItem($input: AddItemsToReturnInput!) {
  addItemsToReturn(input: $input) {
    userErrors { code message }
    return { lines { quantity reason lineItem { name } } }
  }
}""", {"input": {"orderId": "ord-us-delivered", "returnId": "cmb-ret-us-delivered-n00001",
                 "idempotencyKey": "readme-add-1",
                 "items": [{"lineItemId": "ord-us-delivered-l4", "reason": "NO_LONGER_NEEDED"}]}}),
        Step("""query ReturnSteps($id: ID!) {
  order(id: $id) {
    statusLabel
    returns {
      status statusLabel
      refund { amount { formatted } state }
      steps { kind state description }
    }
  }
}""", {"id": "ord-us-delivered"}),
    )),
    Example("degraded", (Step("""query Degraded($id: ID!) {
  order(id: $id) {
    statusLabel trackingAvailable
    packages { status statusSource trackingEvents { code } }
    afterSalesActions { kind available }
  }
}""", {"id": "ord-us-split-size"}, faults=(("carrier", {"status": 503}),)),)),
)


async def run(example: Example) -> list[Any]:
    outputs = []
    async with running_mocks() as mocks, running_gateway(mocks) as gw:
        for step in example.steps:
            for service, fault in step.faults:
                await mocks.fault(service, **fault)
            outputs.append(await gw.query(step.document, step.variables, as_=step.as_, role=step.role,
                                          shop_id=step.shop_id))
    return outputs


def pretty(value: Any, indent: int = 0, width: int = 100) -> str:
    """JSON as a person would lay it out: small objects and lists on one line."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent <= width or not isinstance(value, dict | list) or not value:
        return flat
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        body = ",\n".join(f"{inner}{json.dumps(k)}: {pretty(v, indent + 2, width)}" for k, v in value.items())
        return "{\n" + body + "\n" + pad + "}"
    body = ",\n".join(inner + pretty(v, indent + 2, width) for v in value)
    return "[\n" + body + "\n" + pad + "]"


def render(example: Example, outputs: list[Any]) -> str:
    parts = []
    for step, output in zip(example.steps, outputs, strict=True):
        parts.append("```graphql\n" + step.document + "\n```")
        if step.variables:
            parts.append("Variables:\n\n```json\n" + pretty(step.variables) + "\n```")
        who = f"{step.role.value} `{step.as_}`" + (f" (shop `{step.shop_id}`)" if step.shop_id else "")
        faults = "".join(f"; with the {s} service failing ({json.dumps(f)})" for s, f in step.faults)
        parts.append(f"Answer (as {who}{faults}):\n\n```json\n" + pretty(output) + "\n```")
    return "\n\n".join(parts)


def scenario_table() -> str:
    from mocks.catalog import SCENARIOS, build_world
    from tests.upstreams import TEST_NOW

    described = build_world(TEST_NOW).descriptions
    rows = ["| Order id | Buyer | What it shows |", "| --- | --- | --- |"]
    rows += [f"| `{s.id}` | `{s.buyer.id}` | {described[s.id]} |" for s in SCENARIOS]
    return "\n".join(rows)


def generated_sections() -> dict[str, str]:
    """README sections generated from code: the settings table and the scenario catalogue."""
    from gateway.settings import settings_table

    return {"settings": settings_table(), "scenarios": scenario_table()}


def blocks(text: str) -> dict[str, str]:
    """Every generated block of the README, by name (``example:single-package``, ``settings`` ...)."""
    pattern = re.compile(r"<!-- (?P<name>[\w:-]+) -->\n(?P<body>.*?)\n<!-- /(?P=name) -->", re.S)
    return {m["name"]: m["body"] for m in pattern.finditer(text)}


async def rendered() -> dict[str, str]:
    return {e.name: render(e, await run(e)) for e in EXAMPLES}


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {re.escape(name)} -->\n)(.*?)(<!-- /{re.escape(name)} -->)", re.S)
    if not pattern.search(text):
        raise KeyError(f"README has no block {name!r}")
    return pattern.sub(lambda m: m[1] + body + "\n" + m[3], text, count=1)


def write() -> None:
    text = README.read_text()
    sections = {f"example:{name}": body for name, body in asyncio.run(rendered()).items()}
    sections.update(generated_sections())
    for name, body in sections.items():
        text = replace_block(text, name, body)
    README.write_text(text)


if __name__ == "__main__":
    write()
