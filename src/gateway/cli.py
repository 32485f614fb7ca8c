"""``gateway``: serve (production), token (mint a development token), schema (print the SDL), settings."""

from __future__ import annotations

import argparse
import sys

from gateway.auth import Role, mint
from gateway.settings import Mode, Settings, SettingsError, settings_table

# Why several workers need Redis: each would keep its own copy of what must be shared.
PER_WORKER = ("without it every worker keeps its own idempotency keys, rate-limit buckets and persisted queries, "
              "so a retried mutation reaching another worker runs twice")


def workers_warning(settings: Settings, workers: int, allow_per_worker_state: bool = False) -> str | None:
    """What to warn about before starting ``workers`` workers; raises when production must not start."""
    if workers < 1:
        raise SettingsError("--workers must be at least 1")
    if workers == 1 or settings.redis_url:
        return None
    if settings.mode is Mode.PRODUCTION and not allow_per_worker_state:
        raise SettingsError(f"--workers {workers} needs REDIS_URL: {PER_WORKER} "
                            f"(--allow-per-worker-state accepts that, e.g. for a benchmark)")
    return f"warning: --workers {workers} without REDIS_URL: {PER_WORKER}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway (settings from the environment)")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--allow-per-worker-state", action="store_true",
                       help="run several workers without REDIS_URL even in production (benchmarks, not real traffic)")
    token = commands.add_parser("token", help="mint a development bearer token")
    token.add_argument("--role", choices=[r.value for r in Role], default="buyer")
    token.add_argument("--subject", default="buyer-us-alice", help="buyer id, or seller user id")
    token.add_argument("--shop", default=None, help="the seller's shop id (sellers only)")
    token.add_argument("--ttl", type=int, default=7 * 24 * 3600, help="lifetime in seconds")
    commands.add_parser("schema", help="print the GraphQL SDL")
    commands.add_parser("settings", help="print the settings table (Markdown)")
    args = parser.parse_args(argv)

    if args.command == "schema":
        from gateway.schema import schema

        print(schema.as_str())
        return 0
    if args.command == "settings":
        print(settings_table())
        return 0
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"gateway: bad configuration: {error}", file=sys.stderr)
        return 2
    if args.command == "token":
        if settings.mode is Mode.PRODUCTION and not settings.jwt_secret:
            print("gateway: set JWT_SECRET to mint tokens", file=sys.stderr)
            return 2
        from gateway.app import token_settings

        role = Role(args.role)
        print(mint(token_settings(settings), args.subject, role, shop_id=args.shop, ttl=args.ttl))
        return 0
    try:
        warning = workers_warning(settings, args.workers, args.allow_per_worker_state)
    except SettingsError as error:
        print(f"gateway: {error}", file=sys.stderr)
        return 2
    if warning:
        print(f"gateway: {warning}", file=sys.stderr)
    from gateway.server import serve as run

    run(settings, workers=args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
