"""The carrier/logistics mock: AfterShip-like trackings keyed by carrier slug + tracking number.

Routes:
  GET  /trackings/{slug}/{tracking_number}   one tracking, 404 when unknown
  POST /trackings/batch_get                  {"trackings": [{"slug", "tracking_number"}]} (1-100)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mocks.catalog import World
from mocks.control import CorruptionSpec, MockClock, bad_request, json_response, not_found, read_json_object
from mocks.service import MockConfig, StateBox, make_app

MAX_BATCH = 100


@dataclass
class CarrierState:
    clock: MockClock
    trackings: dict[tuple[str, str], dict[str, Any]]

    @classmethod
    def load(cls, world: World, clock: MockClock) -> CarrierState:
        return cls(clock, copy.deepcopy(world.trackings))


STATE: web.AppKey[StateBox[CarrierState]] = web.AppKey("carrier_state", StateBox)


def _state(request: web.Request) -> CarrierState:
    return request.app[STATE].state


async def get_one(request: web.Request) -> web.Response:
    key = (request.match_info["slug"], request.match_info["tracking_number"])
    tracking = _state(request).trackings.get(key)
    if tracking is None:
        raise not_found(f"no tracking {key[1]} for carrier {key[0]}")
    return json_response({"tracking": tracking})


async def batch_get(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    wanted = body.get("trackings")
    if not isinstance(wanted, list) or not wanted:
        raise bad_request("trackings must be a non-empty list of {slug, tracking_number}", field="trackings")
    if len(wanted) > MAX_BATCH:
        raise bad_request(f"at most {MAX_BATCH} trackings per request", field="trackings")
    keys: list[tuple[str, str]] = []
    for i, entry in enumerate(wanted):
        if (not isinstance(entry, dict) or not isinstance(entry.get("slug"), str)
                or not isinstance(entry.get("tracking_number"), str)):
            raise bad_request("each entry needs string slug and tracking_number", field=f"trackings[{i}]")
        keys.append((entry["slug"], entry["tracking_number"]))
    trackings = _state(request).trackings
    unique = list(dict.fromkeys(keys))
    return json_response({
        "trackings": [trackings[k] for k in unique if k in trackings],
        "not_found": [{"slug": s, "tracking_number": n} for s, n in unique if (s, n) not in trackings],
    })


def _routes(app: web.Application) -> None:
    app.router.add_post("/trackings/batch_get", batch_get, name="trackings.batch")
    app.router.add_get("/trackings/{slug}/{tracking_number}", get_one, name="trackings.get")


def create_app(config: MockConfig | None = None) -> web.Application:
    box: StateBox[CarrierState] = StateBox()
    corruption = CorruptionSpec(required_fields=("tag", "trackings"), enum_fields=("tag",),
                                date_fields=("checkpoint_time",), bad_date="2026-02-30T25:61:00+00:00")
    app = make_app("carrier", config or MockConfig(), CarrierState.load, box, _routes, corruption)
    app[STATE] = box
    return app
