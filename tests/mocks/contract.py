"""The mocks' OpenAPI documents, and a raw-HTTP client that checks every answer against them.

``Contract.call`` sends one request to a running mock over real HTTP, keeps the exact bytes, status,
headers and content type it got back, and validates the exchange with openapi-core (request against
the operation's parameters and body, response against the documented status, headers and schema).
"""

from __future__ import annotations

import io
import json as jsonlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mocks.catalog import World, build_world
from tests.upstreams import TEST_NOW, MockUpstreams

SPEC_DIR = Path(__file__).resolve().parents[2] / "mocks" / "openapi"
DOCUMENTS = ("orders", "carrier", "aftersales", "control")


@cache
def scenario_world() -> World:
    """The named scenarios at TEST_NOW, as the ``mocks`` fixture serves them."""
    return build_world(TEST_NOW)


def return_id(order_id: str, n: int = 0) -> str:
    """The id of a scenario order's n-th return (ids are numbered across the catalogue: look them up)."""
    return [r for r in scenario_world().returns.values() if r["order_id"] == order_id][n]["return_id"]


def combined_id(order_id: str, n: int = 0) -> str:
    return [r for r in scenario_world().returns.values() if r["order_id"] == order_id][n]["combined_return_id"]


def cancel_id(order_id: str, n: int = 0) -> str:
    return [c for c in scenario_world().cancellations.values() if c["order_id"] == order_id][n]["cancel_id"]


@cache
def document(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SPEC_DIR / f"{name}.yaml").read_text())
    return loaded


@cache
def openapi(name: str) -> OpenAPI:
    return OpenAPI.from_dict(document(name))


@cache
def _registry(name: str) -> Registry:
    resource = Resource.from_contents(document(name), default_specification=DRAFT202012)
    return Registry().with_resource(f"urn:mock:{name}", resource)


def schema_errors(name: str, component: str, instance: Any) -> list[str]:
    """Errors of ``instance`` against ``#/components/schemas/<component>`` (jsonschema, formats on)."""
    validator = Draft202012Validator(
        {"$ref": f"urn:mock:{name}#/components/schemas/{component}"},
        registry=_registry(name), format_checker=FormatChecker(),
    )
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def enum_of(name: str, component: str) -> set[Any]:
    return set(document(name)["components"]["schemas"][component]["enum"])


@dataclass
class Exchange:
    service: str
    method: str
    path: str
    query: dict[str, str]
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    headers: dict[str, str]
    content_type: str
    raw: bytes
    errors: list[str] = field(default_factory=list)

    @property
    def body(self) -> Any:
        return jsonlib.loads(self.raw) if self.raw else None

    def __repr__(self) -> str:
        return (f"<{self.method} {self.service}{self.path} -> {self.status} "
                f"{self.raw[:300]!r} errors={self.errors}>")


class ContractError(AssertionError):
    pass


class Contract:
    """Calls a running mock and checks the exchange against the service's OpenAPI document."""

    def __init__(self, mocks: MockUpstreams) -> None:
        self.mocks = mocks

    async def raw(self, service: str, method: str, target: str, *, json: Any = None,
                  data: bytes | None = None, headers: dict[str, str] | None = None) -> Exchange:
        """One HTTP exchange, exactly as sent and received; no validation."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        sent_headers = dict(headers or {})
        body = data if data is not None else (jsonlib.dumps(json).encode() if json is not None else b"")
        if body and "Content-Type" not in sent_headers:
            sent_headers["Content-Type"] = "application/json"
        url = self.mocks.servers[service].make_url(parts.path).with_query(query)
        payload: bytes | io.BytesIO | None = body or None
        if len(body) > 256 * 1024:
            payload = io.BytesIO(body)  # aiohttp warns about big raw bytes bodies
        async with self.mocks.session.request(method, url, data=payload, headers=sent_headers) as response:
            raw = await response.read()
            return Exchange(service, method.upper(), parts.path, query, sent_headers, body, response.status,
                            dict(response.headers), response.content_type, raw)

    def check(self, exchange: Exchange, *, document_name: str | None = None,
              request: bool = True) -> Exchange:
        """Validate the exchange with openapi-core; raise with every error when it does not conform."""
        name = document_name or exchange.service
        api = openapi(name)
        server = self.mocks.servers[exchange.service]
        host_url = str(server.make_url("/")).rstrip("/")
        req = MockRequest(host_url, exchange.method, exchange.path, args=exchange.query,
                          headers=exchange.request_headers, data=exchange.request_body or None)
        resp = MockResponse(exchange.raw, status_code=exchange.status, headers=exchange.headers,
                            content_type=exchange.content_type)
        errors = [_describe(e) for e in api.iter_response_errors(req, resp)]
        if request:
            errors += [f"request: {_describe(e)}" for e in api.iter_request_errors(req)]
        exchange.errors = errors
        if errors:
            raise ContractError(f"{exchange!r} breaks {name}.yaml:\n  " + "\n  ".join(errors))
        return exchange

    async def call(self, service: str, method: str, target: str, *, json: Any = None,
                   headers: dict[str, str] | None = None, expect: int | None = None,
                   request: bool = True) -> Exchange:
        """Send, validate against the contract, and check the status when ``expect`` is given."""
        exchange = self.check(await self.raw(service, method, target, json=json, headers=headers),
                              request=request)
        if expect is not None:
            assert exchange.status == expect, exchange
        return exchange

    async def control(self, service: str, method: str, path: str, *, json: Any = None,
                      expect: int = 200, request: bool = True) -> Exchange:
        exchange = self.check(await self.raw(service, method, f"/_control/{path}", json=json),
                              document_name="control", request=request)
        assert exchange.status == expect, exchange
        return exchange

    def violations(self, exchange: Exchange) -> list[str]:
        """The response's contract errors (empty when it conforms); never raises."""
        try:
            self.check(exchange, request=False)
        except ContractError:
            pass
        except Exception as exc:  # openapi-core gives up on bodies it cannot even parse
            exchange.errors = [f"{type(exc).__name__}: {exc}"]
        return exchange.errors


def _describe(error: Exception) -> str:
    causes: list[str] = []
    node: BaseException | None = error
    while node is not None:
        schema_errors_ = getattr(node, "schema_errors", None)
        if schema_errors_:
            causes.extend(_leaf(e) for e in schema_errors_)
        node = node.__cause__
    return f"{type(error).__name__}: {str(error)[:160]}" + (f" [{'; '.join(causes)}]" if causes else "")


def _leaf(error: ValidationError) -> str:
    if error.context:
        best = min(error.context, key=lambda e: len(e.absolute_path))
        return _leaf(best)
    return f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:200]}"


__all__ = ["DOCUMENTS", "Contract", "ContractError", "Exchange", "cancel_id", "combined_id", "document",
           "enum_of", "openapi", "return_id", "scenario_world", "schema_errors"]
