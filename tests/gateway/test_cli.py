"""The ``gateway`` command and its settings: tokens, the SDL, the settings table, validation, ``.env``."""

from __future__ import annotations

import gc
from dataclasses import fields
from pathlib import Path

import jwt
import pytest

from gateway.app import token_settings
from gateway.auth import Role, TokenSettings, verify
from gateway.cli import main, workers_warning
from gateway.errors import Unauthenticated
from gateway.server import app_from_env
from gateway.settings import DEV_SECRET, Mode, Settings, SettingsError

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"
ENV_VARS = [str(f.metadata["env"]) for f in fields(Settings)]
PRODUCTION_SECRET = "a-production-secret-that-is-long-enough-0123456789"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No gateway variable from the outside world, and no stray ``.env`` in the working directory."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _dev_tokens() -> TokenSettings:
    return token_settings(Settings.from_env(env={"GATEWAY_MODE": "development"}, dotenv=None))


# -- gateway token ---------------------------------------------------------------------------------

def test_token_prints_a_buyer_token_the_gateway_accepts(clean_env: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("GATEWAY_MODE", "development")
    assert main(["token"]) == 0
    out = capsys.readouterr().out.strip()
    assert "\n" not in out
    viewer = verify(out, _dev_tokens())
    assert (viewer.subject, viewer.role, viewer.shop_id) == ("buyer-us-alice", Role.BUYER, None)


def test_token_mints_for_a_seller_with_its_shop_and_a_lifetime(clean_env: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("GATEWAY_MODE", "development")
    assert main(["token", "--role", "seller", "--subject", "seller-threadline", "--shop", "shop-us-threadline",
                 "--ttl", "120"]) == 0
    token = capsys.readouterr().out.strip()
    viewer = verify(token, _dev_tokens())
    assert (viewer.subject, viewer.role, viewer.shop_id) == ("seller-threadline", Role.SELLER, "shop-us-threadline")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120


def test_a_production_token_is_signed_with_the_production_secret(clean_env: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("GATEWAY_MODE", "production")
    clean_env.setenv("JWT_SECRET", PRODUCTION_SECRET)
    assert main(["token", "--subject", "buyer-uk-olivia"]) == 0
    token = capsys.readouterr().out.strip()
    production = token_settings(Settings.from_env(env={"JWT_SECRET": PRODUCTION_SECRET}, dotenv=None))
    assert verify(token, production).subject == "buyer-uk-olivia"
    with pytest.raises(Unauthenticated):
        verify(token, _dev_tokens())


def test_token_without_a_secret_in_production_fails_and_says_why(clean_env: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("GATEWAY_MODE", "production")
    assert main(["token"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "JWT_SECRET" in captured.err


def test_bad_settings_fail_any_command_that_needs_them(clean_env: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("GATEWAY_MODE", "development")
    clean_env.setenv("PORT", "eighty")
    assert main(["token"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "bad configuration" in captured.err and "PORT" in captured.err


@pytest.mark.parametrize("mode", ["production", "PRODUCTION"])
def test_several_workers_without_redis_refuse_to_start_in_production(clean_env: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     mode: str) -> None:
    # Each worker would keep its own idempotency keys: a retried mutation on another worker runs twice.
    clean_env.setenv("GATEWAY_MODE", mode)
    clean_env.setenv("JWT_SECRET", PRODUCTION_SECRET)
    assert main(["serve", "--workers", "3"]) == 2
    err = capsys.readouterr().err
    assert "--workers 3 needs REDIS_URL" in err and "idempotency keys" in err


def test_serve_needs_at_least_one_worker(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("GATEWAY_MODE", "development")
    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(("mode", "redis", "workers", "allow", "outcome"), [
    ("production", "", 1, False, None),
    ("production", "redis://127.0.0.1:6379/0", 4, False, None),
    ("production", "", 4, False, "refused"),
    ("production", "", 4, True, "warning"),  # said out loud: a benchmark, say
    ("development", "", 4, False, "warning"),
])
def test_several_workers_share_state_through_redis_or_say_they_do_not(mode: str, redis: str, workers: int,
                                                                     allow: bool, outcome: str | None) -> None:
    settings = Settings.from_env(env={"GATEWAY_MODE": mode, "JWT_SECRET": PRODUCTION_SECRET, "REDIS_URL": redis},
                                 dotenv=None)
    if outcome == "refused":
        with pytest.raises(SettingsError, match="needs REDIS_URL"):
            workers_warning(settings, workers, allow)
        return
    warning = workers_warning(settings, workers, allow)
    assert (warning is not None and "without REDIS_URL" in warning) is (outcome == "warning")


def test_no_command_is_a_usage_error(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "usage" in capsys.readouterr().err


# -- gateway schema, gateway settings --------------------------------------------------------------

def test_schema_prints_the_sdl_of_schema_graphql(clean_env: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("PORT", "not-even-read")  # printing the schema does not need valid settings
    assert main(["schema"]) == 0
    assert capsys.readouterr().out == SDL.read_text()


def test_settings_prints_a_markdown_table_of_every_variable(clean_env: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "| Variable | Default | Meaning |"
    assert lines[1] == "| --- | --- | --- |"
    rows = lines[2:]
    assert [row.split("|")[1].strip().strip("`") for row in rows] == ENV_VARS
    by_name = {row.split("|")[1].strip().strip("`"): row for row in rows}
    assert "`8000`" in by_name["PORT"]
    assert "`production`" in by_name["GATEWAY_MODE"]
    assert "(none)" in by_name["JWT_SECRET"]
    assert all(row.count("|") == 4 and row.split("|")[3].strip() for row in rows), "every row has a meaning"


# -- validation ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("env", "variable"), [
    ({"PORT": "abc"}, "PORT"),
    ({"PORT": "0"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"UPSTREAM_TIMEOUT": "-1"}, "UPSTREAM_TIMEOUT"),
    ({"UPSTREAM_TIMEOUT": "0"}, "UPSTREAM_TIMEOUT"),
    ({"UPSTREAM_TIMEOUT": "soon"}, "UPSTREAM_TIMEOUT"),
    ({"REQUEST_DEADLINE": "-5"}, "REQUEST_DEADLINE"),
    ({"GATEWAY_MODE": "prod"}, "GATEWAY_MODE"),
    ({"ORDERS_URL": "ftp://x"}, "ORDERS_URL"),
    ({"CARRIER_URL": "carrier.internal:8102"}, "CARRIER_URL"),
    ({"MAX_PAGE_SIZE": "0"}, "MAX_PAGE_SIZE"),
    ({"MAX_PAGE_SIZE": "1000"}, "MAX_PAGE_SIZE"),
    ({"GATEWAY_NOW": "2026-11-20T12:00:00"}, "GATEWAY_NOW"),
    ({"GATEWAY_NOW": "yesterday"}, "GATEWAY_NOW"),
    ({"UPSTREAM_QUEUE_WAIT": "-0.1"}, "UPSTREAM_QUEUE_WAIT"),
    ({"PARSE_CACHE_ENTRIES": "-1"}, "PARSE_CACHE_ENTRIES"),
    ({"FORWARDED_ALLOW_IPS": "ingress.internal"}, "FORWARDED_ALLOW_IPS"),
    ({"FORWARDED_ALLOW_IPS": "10.0.0.1/8"}, "FORWARDED_ALLOW_IPS"),  # host bits set: uvicorn would never match it
    ({"READINESS_REQUIRES_UPSTREAMS": "maybe"}, "READINESS_REQUIRES_UPSTREAMS"),
])
def test_a_bad_setting_is_rejected_naming_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env={"GATEWAY_MODE": "development", **env}, dotenv=None)


@pytest.mark.parametrize("mode", ["production", "PRODUCTION"])
def test_production_is_the_default_and_needs_a_jwt_secret(mode: str) -> None:
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        Settings.from_env(env={}, dotenv=None)
    with pytest.raises(SettingsError, match="JWT_SECRET"):
        Settings.from_env(env={"GATEWAY_MODE": mode}, dotenv=None)
    settings = Settings.from_env(env={"GATEWAY_MODE": mode, "JWT_SECRET": PRODUCTION_SECRET}, dotenv=None)
    assert settings.mode is Mode.PRODUCTION and not settings.development
    assert settings.jwt_secret == PRODUCTION_SECRET


def test_trusted_proxies_are_addresses_networks_or_any() -> None:
    settings = Settings.from_env(env={"GATEWAY_MODE": "development", "FORWARDED_ALLOW_IPS": "10.0.0.0/8, ::1"},
                                 dotenv=None)
    assert settings.forwarded_allow_ips == ("10.0.0.0/8", "::1")
    assert Settings.from_env(env={"GATEWAY_MODE": "development"}, dotenv=None).forwarded_allow_ips == (
        "127.0.0.1", "::1"), "by default only a proxy on the same machine is trusted"
    assert Settings.from_env(env={"GATEWAY_MODE": "development", "FORWARDED_ALLOW_IPS": "*"},
                             dotenv=None).forwarded_allow_ips == ("*",)


def test_development_falls_back_to_the_development_secret() -> None:
    settings = Settings.from_env(env={"GATEWAY_MODE": "development"}, dotenv=None)
    assert settings.development and settings.jwt_secret == DEV_SECRET


@pytest.mark.parametrize("variable", ["UPSTREAM_TIMEOUT", "REQUEST_DEADLINE"])
def test_a_timeout_that_is_not_a_number_is_rejected(variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env(env={"GATEWAY_MODE": "development", variable: "nan"}, dotenv=None)


# -- .env ------------------------------------------------------------------------------------------

DOTENV = """\
# gateway settings for this machine
GATEWAY_MODE=development

export PORT=9123
ORDERS_URL="http://orders.internal:8101"
CARRIER_URL='http://carrier.internal:8102/'
UPSTREAM_TIMEOUT = 1.5
not a setting line
"""


def test_dotenv_values_are_read(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(DOTENV)
    settings = Settings.from_env(env={}, dotenv=dotenv)
    assert settings.mode is Mode.DEVELOPMENT
    assert settings.port == 9123
    assert settings.orders_url == "http://orders.internal:8101/"
    assert settings.carrier_url == "http://carrier.internal:8102/"
    assert settings.upstream_timeout == 1.5
    assert settings.max_page_size == 50, "what .env does not say keeps its default"


def test_the_environment_beats_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(DOTENV)
    settings = Settings.from_env(env={"PORT": "9999", "ORDERS_URL": "https://orders.example/api"}, dotenv=dotenv)
    assert settings.port == 9999
    assert settings.orders_url == "https://orders.example/api/"
    assert settings.upstream_timeout == 1.5 and settings.mode is Mode.DEVELOPMENT


def test_a_bad_value_in_dotenv_is_rejected_naming_the_variable(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("GATEWAY_MODE=development\nMAX_PAGE_SIZE=lots\n")
    with pytest.raises(SettingsError, match="MAX_PAGE_SIZE"):
        Settings.from_env(env={}, dotenv=dotenv)
    # ...unless the environment overrides it.
    assert Settings.from_env(env={"MAX_PAGE_SIZE": "20"}, dotenv=dotenv).max_page_size == 20


def test_a_missing_dotenv_is_no_error(tmp_path: Path) -> None:
    settings = Settings.from_env(env={"GATEWAY_MODE": "development"}, dotenv=tmp_path / "absent.env")
    assert settings.port == 8000


def test_the_command_reads_dotenv_from_the_working_directory(clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".env").write_text(f"GATEWAY_MODE=production\nJWT_SECRET={PRODUCTION_SECRET}\n")
    assert main(["token", "--subject", "buyer-us-bob"]) == 0
    token = capsys.readouterr().out.strip()
    production = token_settings(Settings.from_env(env={"JWT_SECRET": PRODUCTION_SECRET}, dotenv=None))
    assert verify(token, production).subject == "buyer-us-bob"


def test_a_worker_freezes_what_start_up_built(clean_env: pytest.MonkeyPatch) -> None:
    # A full collection then walks only what requests made, not the schema and modules again.
    clean_env.setenv("GATEWAY_MODE", "development")
    gc.unfreeze()
    try:
        app_from_env()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
