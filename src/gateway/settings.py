"""Settings: a frozen value read once from the environment (and an optional ``.env``), validated up front.

Every setting is one dataclass field whose metadata names its environment variable and says what it
does; the README's settings table is generated from the same fields (``gateway settings``), so the
documentation cannot drift from the code. Nothing else in the gateway reads ``os.environ``.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, get_type_hints

from jwt import PyJWTError
from jwt.algorithms import get_default_algorithms

DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Mode(Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(ValueError):
    """A setting is missing or has a bad value; the message names the variable and what is expected."""


def _s(env: str, doc: str, default: Any = MISSING) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    mode: Mode = _s("GATEWAY_MODE", "`development` (GraphiQL, introspection) or `production`.", Mode.PRODUCTION)
    host: str = _s("HOST", "Interface the gateway listens on.", "127.0.0.1")
    port: int = _s("PORT", "Port the gateway listens on.", 8000)
    orders_url: str = _s("ORDERS_URL", "Base URL of the order service.", "http://127.0.0.1:8101/")
    carrier_url: str = _s("CARRIER_URL", "Base URL of the carrier service.", "http://127.0.0.1:8102/")
    aftersales_url: str = _s("AFTERSALES_URL", "Base URL of the after-sales service.", "http://127.0.0.1:8103/")
    jwt_secret: str = _s("JWT_SECRET", "HMAC key (HS256/384/512) for bearer tokens, at least 32 characters. "
                         "Required in production when `JWT_ALGORITHMS` names an HS algorithm.", "")
    jwt_public_key: str = _s("JWT_PUBLIC_KEY", "PEM public key for RS/PS/ES/EdDSA tokens (or use `JWT_JWKS_URL`; "
                             "not both).", "")
    jwt_algorithms: tuple[str, ...] = _s("JWT_ALGORITHMS", "Accepted signing algorithms (comma-separated), each "
                                         "with its key: HS* need `JWT_SECRET`, the others `JWT_PUBLIC_KEY` or "
                                         "`JWT_JWKS_URL`. Checked at start-up.", ("HS256",))
    jwt_issuer: str = _s("JWT_ISSUER", "Required `iss` claim.", "order-tracker-dev")
    jwt_audience: str = _s("JWT_AUDIENCE", "Required `aud` claim.", "order-tracker-gateway")
    jwt_leeway: float = _s("JWT_LEEWAY_SECONDS", "Clock skew tolerated on `exp`/`iat`, in seconds.", 30.0)
    upstream_timeout: float = _s("UPSTREAM_TIMEOUT", "Per-call timeout for an upstream request, in seconds.", 2.0)
    request_deadline: float = _s("REQUEST_DEADLINE", "Overall deadline for one GraphQL request, in seconds.", 5.0)
    upstream_retries: int = _s("UPSTREAM_RETRIES", "Retries of an idempotent read after a refused connection, 429 "
                               "or 5xx (0 disables).", 2)
    retry_base_delay: float = _s("UPSTREAM_RETRY_BASE_DELAY", "First backoff step in seconds (doubles, full jitter; "
                                 "`Retry-After` wins).", 0.05)
    retry_max_delay: float = _s("UPSTREAM_RETRY_MAX_DELAY", "Longest backoff between retries, in seconds.", 1.0)
    breaker_threshold: int = _s("BREAKER_THRESHOLD", "Consecutive failures that open an upstream's circuit.", 5)
    breaker_cool_off: float = _s("BREAKER_COOL_OFF", "Seconds an open circuit fails fast before one probe.", 10.0)
    upstream_max_in_flight: int = _s("UPSTREAM_MAX_IN_FLIGHT", "Calls in flight per upstream; more wait "
                                     "`UPSTREAM_QUEUE_WAIT`, then fail with `UPSTREAM_UNAVAILABLE`.", 64)
    upstream_queue_wait: float = _s("UPSTREAM_QUEUE_WAIT", "Seconds a call waits for a free in-flight slot "
                                    "before failing fast (0: no wait).", 0.1)
    upstream_pool_size: int = _s("UPSTREAM_POOL_SIZE", "Connections kept per upstream (keep-alive pool).", 100)
    tracking_cache_ttl: float = _s("TRACKING_CACHE_TTL", "Seconds to reuse a carrier tracking across requests "
                                   "(0: off).", 0.0)
    parse_cache_entries: int = _s("PARSE_CACHE_ENTRIES", "Upstream items kept parsed across requests, keyed by "
                                  "their exact JSON (about 10 KiB each; 0: off).", 4096)
    max_page_size: int = _s("MAX_PAGE_SIZE", "Largest `first` accepted by the order history.", 50)
    max_body_bytes: int = _s("MAX_BODY_BYTES", "Largest request body accepted (413 beyond).", 262_144)
    max_document_length: int = _s("MAX_DOCUMENT_LENGTH", "Longest GraphQL document, in characters.", 20_000)
    max_tokens: int = _s("MAX_TOKENS", "Most lexical tokens in one document.", 1_500)
    max_fields: int = _s("MAX_FIELDS", "Most field selections written in one document (repeated fields count).",
                         400)
    max_depth: int = _s("MAX_DEPTH", "Deepest field nesting allowed.", 12)
    max_aliases: int = _s("MAX_ALIASES", "Most aliases in one document.", 30)
    max_directives: int = _s("MAX_DIRECTIVES", "Most directives in one document.", 20)
    max_cost: int = _s("MAX_COST", "Largest estimated cost (fields x list sizes, pages count `first`).", 50_000)
    max_batch: int = _s("MAX_BATCH", "Operations per batched request (0: batching off).", 0)
    compiled_execution: bool = _s("COMPILED_EXECUTION", "Run queries on compiled plans (`gateway.fastpath`); "
                                  "false: always graphql-core.", True)
    persisted_queries: str = _s("PERSISTED_QUERIES", "`apq` (automatic persisted queries), `safelist` (only "
                                "registered documents run) or `off`.", "apq")
    persisted_queries_file: str = _s("PERSISTED_QUERIES_FILE", "Manifest of registered documents (safelist "
                                     "mode; also preloaded in apq mode).", "")
    cors_origins: tuple[str, ...] = _s("CORS_ORIGINS", "Origins allowed by CORS (comma-separated; none by "
                                       "default).", ())
    rate_limit_per_minute: int = _s("RATE_LIMIT_PER_MINUTE", "Requests per minute per client identity (0: "
                                    "off).", 1_200)
    rate_limit_burst: int = _s("RATE_LIMIT_BURST", "Requests a client may burst above the rate.", 200)
    forwarded_allow_ips: tuple[str, ...] = _s("FORWARDED_ALLOW_IPS", "Proxies trusted for `X-Forwarded-For` "
                                              "(comma-separated IPs or networks, `*` for any): behind them the "
                                              "client address is the real client's.", ("127.0.0.1", "::1"))
    jwt_jwks_url: str = _s("JWT_JWKS_URL", "JWKS endpoint for public keys, e.g. RS256 (production; cached).", "")
    redis_url: str = _s("REDIS_URL", "Shared store for idempotency keys, persisted queries, rate limits and the "
                        "tracking cache (e.g. redis://127.0.0.1:6379/0). Unset: in memory, one process "
                        "(production refuses `--workers` above 1).", "")
    log_level: str = _s("LOG_LEVEL", "debug, info, warning or error.", "info")
    log_format: str = _s("LOG_FORMAT", "`json` (one object per line) or `text`.", "json")
    otel_traces_exporter: str = _s("OTEL_TRACES_EXPORTER", "`none`, `console` or `otlp` (OpenTelemetry spans).",
                                   "none")
    otel_exporter_otlp_endpoint: str = _s("OTEL_EXPORTER_OTLP_ENDPOINT", "OTLP/HTTP traces endpoint.", "")
    readiness_requires_upstreams: bool = _s("READINESS_REQUIRES_UPSTREAMS", "`/readyz` fails while an upstream "
                                            "is unreachable or its circuit open (false: it only reports them).",
                                            True)
    shutdown_timeout: float = _s("SHUTDOWN_TIMEOUT", "Seconds in-flight requests get to finish on SIGTERM.", 10.0)
    clock: datetime | None = _s("GATEWAY_NOW", "Pin the gateway's clock (ISO 8601 with offset); demos and tests.",
                                None)

    def __post_init__(self) -> None:
        if self.port <= 0 or self.port > 65535:
            raise SettingsError(f"PORT must be between 1 and 65535, got {self.port}")
        if self.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise SettingsError(f"LOG_LEVEL must be debug, info, warning or error, got {self.log_level!r}")
        if self.log_format not in ("json", "text"):
            raise SettingsError(f"LOG_FORMAT must be json or text, got {self.log_format!r}")
        if self.otel_traces_exporter not in ("none", "console", "otlp"):
            raise SettingsError(
                f"OTEL_TRACES_EXPORTER must be none, console or otlp, got {self.otel_traces_exporter!r}")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(f"REDIS_URL must be a redis:// URL, got {self.redis_url!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise SettingsError(f"{f.metadata['env']} must be a finite number")
        for name in ("upstream_timeout", "request_deadline", "breaker_cool_off", "retry_max_delay",
                     "shutdown_timeout"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{_env(name)} must be positive")
        for name in ("breaker_threshold", "upstream_max_in_flight", "upstream_pool_size", "max_body_bytes",
                     "max_document_length", "max_tokens", "max_depth", "max_aliases", "max_directives",
                     "max_cost", "max_fields"):
            if getattr(self, name) < 1:
                raise SettingsError(f"{_env(name)} must be at least 1")
        if self.rate_limit_per_minute > 0 and self.rate_limit_burst < 1:
            raise SettingsError("RATE_LIMIT_BURST must be at least 1 when RATE_LIMIT_PER_MINUTE is set")
        if self.persisted_queries not in ("apq", "safelist", "off"):
            raise SettingsError(f"PERSISTED_QUERIES must be apq, safelist or off, got {self.persisted_queries!r}")
        if self.persisted_queries == "safelist" and not self.persisted_queries_file:
            raise SettingsError("PERSISTED_QUERIES=safelist needs PERSISTED_QUERIES_FILE")
        if self.persisted_queries_file and not Path(self.persisted_queries_file).is_file():
            raise SettingsError(f"PERSISTED_QUERIES_FILE {self.persisted_queries_file!r} does not exist")
        for name in ("upstream_retries", "retry_base_delay", "tracking_cache_ttl", "parse_cache_entries",
                     "jwt_leeway", "max_batch",
                     "rate_limit_per_minute", "rate_limit_burst", "upstream_queue_wait"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{_env(name)} must not be negative")
        _check_proxies(self.forwarded_allow_ips)
        if not 1 <= self.max_page_size <= 100:
            raise SettingsError("MAX_PAGE_SIZE must be between 1 and 100")
        for name in ("orders_url", "carrier_url", "aftersales_url"):
            url = getattr(self, name)
            if not url.startswith(("http://", "https://")):
                raise SettingsError(f"{_env(name)} must be an http(s) URL, got {url!r}")
            if not url.endswith("/"):
                object.__setattr__(self, name, url + "/")
        if self.mode is Mode.PRODUCTION and self.jwt_secret == DEV_SECRET:
            raise SettingsError("JWT_SECRET must not be the development secret in production")
        if self.mode is Mode.DEVELOPMENT and not self.jwt_secret:
            object.__setattr__(self, "jwt_secret", DEV_SECRET)
        self._check_token_keys()

    def _check_token_keys(self) -> None:
        """Every accepted algorithm has a key that fits it, so a token can fail only for being a bad token."""
        supported = [name for name in get_default_algorithms() if name != "none"]
        if not self.jwt_algorithms:
            raise SettingsError(f"JWT_ALGORITHMS must name at least one of {', '.join(supported)}")
        unknown = [name for name in self.jwt_algorithms if name not in supported]
        if unknown:
            raise SettingsError(f"JWT_ALGORITHMS: {', '.join(unknown)} not supported; use {', '.join(supported)}")
        hmac = [name for name in self.jwt_algorithms if name.startswith("HS")]
        public = [name for name in self.jwt_algorithms if not name.startswith("HS")]
        if self.jwt_public_key and self.jwt_jwks_url:
            raise SettingsError("set JWT_PUBLIC_KEY or JWT_JWKS_URL, not both (keys come from the JWKS when it is set)")
        if (self.jwt_public_key or self.jwt_jwks_url) and not public:
            given = "JWT_PUBLIC_KEY" if self.jwt_public_key else "JWT_JWKS_URL"
            raise SettingsError(f"{given} is set but JWT_ALGORITHMS ({','.join(self.jwt_algorithms)}) names no "
                                "public-key algorithm; add one, e.g. JWT_ALGORITHMS=RS256")
        if hmac and not self.jwt_secret:
            raise SettingsError(f"JWT_ALGORITHMS includes {hmac[0]}, which needs JWT_SECRET (required in production; "
                                "or accept only public-key algorithms, e.g. JWT_ALGORITHMS=RS256)")
        if hmac and len(self.jwt_secret) < 32:
            raise SettingsError("JWT_SECRET must be at least 32 characters")
        if public and not (self.jwt_public_key or self.jwt_jwks_url):
            raise SettingsError(f"JWT_ALGORITHMS includes {public[0]}, which needs JWT_PUBLIC_KEY or JWT_JWKS_URL")
        if self.jwt_jwks_url and not self.jwt_jwks_url.startswith(("http://", "https://")):
            raise SettingsError(f"JWT_JWKS_URL must be an http(s) URL, got {self.jwt_jwks_url!r}")
        for name in public if self.jwt_public_key else ():
            try:
                get_default_algorithms()[name].prepare_key(self.jwt_public_key)
            except (PyJWTError, ValueError, TypeError):
                raise SettingsError(f"JWT_PUBLIC_KEY is not a PEM public key that {name} can use") from None

    @property
    def development(self) -> bool:
        return self.mode is Mode.DEVELOPMENT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
        """Environment variables win over ``.env`` entries, which win over defaults."""
        values: dict[str, str] = {}
        if dotenv is not None and dotenv.is_file():
            values.update(_read_dotenv(dotenv))
        values.update(os.environ if env is None else env)
        hints = get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            raw = values.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            kwargs[f.name] = _parse(f.metadata["env"], raw, hints[f.name])
        return cls(**kwargs)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _check_proxies(proxies: tuple[str, ...]) -> None:
    # uvicorn quietly treats what is not an address or network as a literal that never matches, so a
    # typo would silently trust no proxy (or the wrong one): refuse it here instead.
    for proxy in proxies:
        if proxy == "*":
            continue
        parse = ipaddress.ip_network if "/" in proxy else ipaddress.ip_address
        try:
            parse(proxy)  # strict, as uvicorn parses it: 10.0.0.1/8 is not a network
        except ValueError:
            raise SettingsError(f"FORWARDED_ALLOW_IPS must list IP addresses, networks or *, got {proxy!r}") from None


def _env(name: str) -> str:
    return str(next(f.metadata["env"] for f in fields(Settings) if f.name == name))


def _parse(env: str, raw: str, kind: Any) -> Any:
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
            return value
        if kind is bool:
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes", "on")
        if kind is Mode:
            return Mode(raw.lower())
        if kind == tuple[str, ...]:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if kind == datetime | None:
            t = datetime.fromisoformat(raw)
            if t.tzinfo is None:
                raise ValueError("no UTC offset")
            return t.astimezone(UTC)
        return raw
    except ValueError as exc:
        expected = {int: "an integer", float: "a number", bool: "true or false",
                    Mode: "development or production"}.get(kind, "a valid value")
        if kind == datetime | None:
            expected = "an ISO 8601 time with offset, e.g. 2026-11-20T12:00:00+00:00"
        raise SettingsError(f"{env} must be {expected}, got {raw!r}") from exc


def _read_dotenv(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def settings_table() -> str:
    """The README's settings table, from the fields themselves."""
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for f in fields(Settings):
        default = f.default
        if isinstance(default, Enum):
            default = default.value
        elif isinstance(default, tuple):
            default = ",".join(default)
        shown = "(none)" if default in ("", None) else f"`{default}`"
        rows.append(f"| `{f.metadata['env']}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(rows)
