"""What every resolver of one request shares: who is asking, the loaders, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias

import strawberry

from gateway.auth import Role, Viewer
from gateway.errors import Forbidden, Unauthenticated
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

    def require_viewer(self, role: Role | None = None) -> Viewer:
        if self.auth_error is not None:
            raise self.auth_error
        if self.viewer is None:
            raise Unauthenticated("a bearer token is required (see README: Authentication)")
        if role is not None and self.viewer.role is not role:
            raise Forbidden(f"only a {role.value} can ask for this")
        return self.viewer


Info: TypeAlias = strawberry.Info[Context, None]
