"""The reference page's static side: its GraphQL documents are valid against the schema, and it needs
nothing from outside the gateway (no CDN, no build step)."""

from __future__ import annotations

import re

import pytest
from graphql import parse, validate

from gateway.schema import schema
from tests.web.queries import QUERIES_JS, documents

WEB = QUERIES_JS.parent
OPERATIONS = {name: text for name, text in documents().items() if re.match(r"\s*(query|mutation)\b", text)}


def test_the_page_sends_these_operations() -> None:
    assert set(OPERATIONS) == {"HISTORY", "ORDER", "REQUEST_RETURN", "ADD_ITEMS_TO_RETURN", "CANCEL_RETURN",
                               "REPORT_NOT_RECEIVED", "REPORT_LATE", "CANCEL_ORDER", "CANCEL_ITEMS", "CHANGE_ADDRESS"}


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_document_is_valid_against_the_schema(name: str) -> None:
    errors = validate(schema._schema, parse(OPERATIONS[name]))
    assert not errors, f"{name}: {[e.message for e in errors]}"


def test_the_scripts_only_send_documents_from_queries_js() -> None:
    used = {m for path in WEB.glob("*.js") for m in re.findall(r"\bQ\.(\w+)", path.read_text())}
    assert used == set(OPERATIONS), used ^ set(OPERATIONS)
    # And queries.js is the only place a GraphQL document is written.
    for path in WEB.glob("*.js"):
        if path != QUERIES_JS:
            assert not re.search(r"\b(query|mutation)\s+\w+\s*[({]", path.read_text()), path.name


def test_everything_is_served_from_the_gateway_itself() -> None:
    for path in WEB.iterdir():
        text = path.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), f"{path.name} loads something remote"
        assert not re.search(r"""(import|from)\s*\(?\s*["']https?:""", text), f"{path.name} imports something remote"
        assert "@import url(http" not in text
    assert {"index.html", "app.js", "styles.css", "queries.js"} <= {p.name for p in WEB.iterdir()}


def test_the_scripts_keep_no_copy_of_what_the_api_answers() -> None:
    # Time zones and locales come with each order (Order.timeZone, Order.locale), and cancellation
    # reasons with their labels from Query.cancelReasons: a copy here would drift from the gateway's.
    for path in WEB.glob("*.js"):
        text = path.read_text()
        assert not re.search(r"""['"](America|Europe|Asia|Africa|Australia|Pacific|Etc)/\w+""", text), path.name
        assert not re.search(r"""['"]en-(US|GB)['"]""", text), path.name
        assert not re.search(r"\b(NO_LONGER_NEEDED|ORDERED_BY_MISTAKE|FOUND_BETTER_PRICE)\b", text), path.name
