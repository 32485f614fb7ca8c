"""The gateway's errors, each with the ``extensions.code`` a client sees. Standard library only.

* GatewayError
  + UpstreamError            an upstream gave no usable answer (extensions.service names it)
  | + UpstreamUnavailable    refused connection, 5xx, 429, circuit open
  | + UpstreamTimeout        no answer within the per-call timeout or the request deadline
  | + UpstreamBadData        malformed JSON, missing fields, unknown enum values, impossible dates
  | + UpstreamRejected       a 4xx other than 404: the request we sent was wrong
  + NotFound                 no such order (or not yours: the two answer alike)
  + Unauthenticated          missing, malformed, expired or untrusted token
  + Forbidden                authenticated, but this role cannot do this
  + BadUserInput             arguments that cannot be served (bad cursor, page size)
"""

from __future__ import annotations


class GatewayError(Exception):
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, object]:
        # graphql-core copies this onto the GraphQL error that wraps us.
        return {"code": self.code}


class UpstreamError(GatewayError):
    code = "UPSTREAM_ERROR"

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service} service: {detail}")
        self.service = service
        self.detail = detail

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "service": self.service}


class UpstreamUnavailable(UpstreamError):
    code = "UPSTREAM_UNAVAILABLE"


class UpstreamTimeout(UpstreamError):
    code = "UPSTREAM_TIMEOUT"


class UpstreamBadData(UpstreamError):
    code = "UPSTREAM_BAD_DATA"


class MalformedOrder(UpstreamBadData):
    """An order the order service sent malformed, with whatever ownership could still be read from it:
    the gateway must not tell anyone but its owner that it exists."""

    def __init__(self, order_id: str, detail: str, buyer_id: str | None, shop_id: str | None) -> None:
        super().__init__("orders", detail)
        self.order_id, self.buyer_id, self.shop_id = order_id, buyer_id, shop_id


class UpstreamRejected(UpstreamError):
    code = "UPSTREAM_REJECTED"

    def __init__(self, service: str, detail: str, status: int, upstream_code: str | None = None) -> None:
        super().__init__(service, detail)
        self.status = status
        self.upstream_code = upstream_code


class NotFound(GatewayError):
    code = "NOT_FOUND"


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"


class Forbidden(GatewayError):
    code = "FORBIDDEN"


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument

    @property
    def extensions(self) -> dict[str, object]:
        ext: dict[str, object] = {"code": self.code}
        if self.argument:
            ext["argument"] = self.argument
        return ext


_BY_CODE: dict[str, type[UpstreamError]] = {
    cls.code: cls for cls in (UpstreamUnavailable, UpstreamTimeout, UpstreamBadData)
}


def upstream_error(service: str, code: str, detail: str) -> UpstreamError:
    """Rebuild the error a recorded failure stood for (a degraded field reports the original cause)."""
    return _BY_CODE.get(code, UpstreamUnavailable)(service, detail)
