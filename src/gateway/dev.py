"""``make run``: the three mock services (a child process) and the gateway in development mode.

Prints the addresses of GraphiQL and the reference page, and ready-to-paste development tokens.
Ports: PORT (gateway, 8000), ORDERS_PORT / CARRIER_PORT / AFTERSALES_PORT (mocks, 8101-8103).
MOCK_NOW pins the clock of the whole stack: it is GATEWAY_NOW too unless that is set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from types import FrameType

from gateway.app import token_settings
from gateway.auth import Role, mint
from gateway.server import serve
from gateway.settings import Settings, SettingsError

MOCKS = (("ORDERS", 8101), ("CARRIER", 8102), ("AFTERSALES", 8103))
DEMO = (("Alice (US buyer)", "buyer-us-alice", Role.BUYER, None),
        ("Olivia (UK buyer)", "buyer-uk-olivia", Role.BUYER, None),
        ("Threadline Apparel (US seller)", "seller-threadline", Role.SELLER, "shop-us-threadline"))


def _wait_healthy(urls: list[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            try:
                with urllib.request.urlopen(url + "health", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"mock at {url} did not become healthy")
            time.sleep(0.1)


def _stop(signum: int, frame: FrameType | None) -> None:
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again; left to its default,
    # SIGTERM would end this process before the `finally` below stops the mocks, orphaning them.
    raise SystemExit(0)


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    env = dict(os.environ)
    env.setdefault("GATEWAY_MODE", "development")
    env.setdefault("LOG_FORMAT", "text")
    # One clock for the whole stack: the mocks build every scenario around their "now", so the gateway
    # must judge them (the free-cancel hour, lateness, return windows) at that same instant.
    if env.get("MOCK_NOW") and not env.get("GATEWAY_NOW"):
        env["GATEWAY_NOW"] = env["MOCK_NOW"]
    urls = []
    for name, port in MOCKS:
        mock_port = env.setdefault(f"{name}_PORT", str(port))
        url = env.setdefault(f"{name}_URL", f"http://127.0.0.1:{mock_port}/")
        urls.append(url if url.endswith("/") else url + "/")
    try:
        settings = Settings.from_env(env)
    except SettingsError as error:
        print(f"gateway: bad configuration: {error}", file=sys.stderr)
        return 2
    mocks = subprocess.Popen([sys.executable, "-m", "mocks"], env=env)
    try:
        _wait_healthy(urls)
        tokens = token_settings(settings)
        base = f"http://{settings.host}:{settings.port}"
        print(f"\norder-tracker gateway (development) at {base}/graphql  (GraphiQL: open it in a browser)\n"
              f"reference order page at {base}/demo\n", flush=True)
        for label, subject, role, shop in DEMO:
            print(f"  {label}:\n    Authorization: Bearer {mint(tokens, subject, role, shop_id=shop)}\n", flush=True)
        print("In GraphiQL, paste one header into the Headers tab as JSON: "
              '{"Authorization": "Bearer <token>"}\n', flush=True)
        serve(settings)
    finally:
        mocks.terminate()
        try:
            mocks.wait(10)
        except subprocess.TimeoutExpired:
            mocks.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
