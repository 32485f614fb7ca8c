"""The reference page's GraphQL documents, read out of src/gateway/web/queries.js (no JavaScript runtime),
and the README block that shows them (``python -m tests.web.queries`` rewrites it)."""

from __future__ import annotations

import re
from pathlib import Path

QUERIES_JS = Path(__file__).resolve().parents[2] / "src" / "gateway" / "web" / "queries.js"
README = QUERIES_JS.parents[3] / "README.md"
README_BLOCK = "web-queries"
FRAGMENTS = ("ORDER_FIELDS", "RETURN_PAYLOAD")  # shown once in the README, not under each operation
_CONST = re.compile(r"^(?:export )?const (\w+) = (?:/\* GraphQL \*/ )?`(.*?)`;", re.S | re.M)
_SPLICE = re.compile(r"\$\{(\w+)\}")
_OPERATION = re.compile(r"\s*(query|mutation)\b")


def documents(path: Path = QUERIES_JS, *, leave_out: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every string constant of the file, with `${NAME}` splices of other constants resolved.

    Splices of the constants named in `leave_out` are dropped instead: the README shows the shared
    fragment once rather than under every operation.
    """
    raw = {name: body for name, body in _CONST.findall(path.read_text())}
    assert raw, f"no constants found in {path}"

    def resolve(name: str, seen: tuple[str, ...] = ()) -> str:
        assert name in raw, f"{name} is spliced in but is not a constant of queries.js"
        assert name not in seen, f"{name} splices itself in"
        return _SPLICE.sub(lambda m: "" if m.group(1) in leave_out else resolve(m.group(1), (*seen, name)),
                           raw[name])

    return {name: resolve(name) for name in raw}


def operations(path: Path = QUERIES_JS, *, leave_out: frozenset[str] = frozenset()) -> dict[str, str]:
    """The queries and mutations the page sends (not the pieces they are built from)."""
    return {name: text for name, text in documents(path, leave_out=leave_out).items() if _OPERATION.match(text)}


def _graphql(*texts: str) -> str:
    return "```graphql\n" + "\n\n".join(t.strip() for t in texts) + "\n```"


def readme_block(path: Path = QUERIES_JS) -> str:
    """The README's copy of every document the page sends, generated from queries.js."""
    every = documents(path)
    shown = operations(path, leave_out=frozenset(FRAGMENTS))
    queries = [text for text in shown.values() if text.lstrip().startswith("query")]
    mutations = [text for text in shown.values() if text.lstrip().startswith("mutation")]
    return "\n\n".join([
        _graphql(*queries, every[FRAGMENTS[0]]),
        f"<details><summary>The {len(mutations)} mutations, each answering the order again with "
        "<code>...OrderFields</code></summary>",
        _graphql(*mutations, *(every[name] for name in FRAGMENTS[1:])),
        "</details>",
    ])


def write_readme() -> None:
    from tests.readme_examples import replace_block

    README.write_text(replace_block(README.read_text(), README_BLOCK, readme_block()))


if __name__ == "__main__":
    write_readme()
