"""What every resolver of one request shares: who is asking, the loaders, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import strawberry

from gateway.auth import Role, Viewer
from gateway.errors import Forbidden, GatewayError, Unauthenticated
from gateway.idempotency import IdempotencyStore, MemoryIdempotencyStore
from gateway.loaders import Loaders
from gateway.upstream import Upstreams


@dataclass
class Context:
    viewer: Viewer | None
    auth_error: Unauthenticated | None
    loaders: Loaders
    upstreams: Upstreams
    now: datetime
    request_id: str = ""
    max_page_size: int = 50
    idempotency: IdempotencyStore = field(default_factory=MemoryIdempotencyStore)
    # Errors reported beside the data, at a field's path: something an answer leaves out while the
    # answer itself stands (an unreadable order on a history page).
    notices: list[tuple[GatewayError, list[str | int]]] = field(default_factory=list)

    def notice(self, error: GatewayError, info: Any) -> None:
        path = info.path  # graphql-core's Path, or the compiled plan's tuple of keys
        self.notices.append((error, path.as_list() if hasattr(path, "as_list") else list(path)))

    def require_viewer(self, role: Role | None = None) -> Viewer:
        if self.auth_error is not None:
            raise self.auth_error
        if self.viewer is None:
            raise Unauthenticated("a bearer token is required (see README: Authentication)")
        if role is not None and self.viewer.role is not role:
            raise Forbidden(f"only a {role.value} can ask for this")
        return self.viewer


Info: TypeAlias = strawberry.Info[Context, None]
