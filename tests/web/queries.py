"""The reference page's GraphQL documents, read out of src/gateway/web/queries.js (no JavaScript runtime)."""

from __future__ import annotations

import re
from pathlib import Path

QUERIES_JS = Path(__file__).resolve().parents[2] / "src" / "gateway" / "web" / "queries.js"
_CONST = re.compile(r"^(?:export )?const (\w+) = (?:/\* GraphQL \*/ )?`(.*?)`;", re.S | re.M)
_SPLICE = re.compile(r"\$\{(\w+)\}")


def documents(path: Path = QUERIES_JS) -> dict[str, str]:
    """Every string constant of the file, with `${NAME}` splices of other constants resolved."""
    raw = {name: body for name, body in _CONST.findall(path.read_text())}
    assert raw, f"no constants found in {path}"

    def resolve(name: str, seen: tuple[str, ...] = ()) -> str:
        assert name in raw, f"{name} is spliced in but is not a constant of queries.js"
        assert name not in seen, f"{name} splices itself in"
        return _SPLICE.sub(lambda m: resolve(m.group(1), (*seen, name)), raw[name])

    return {name: resolve(name) for name in raw}
