"""What the old-SDK scripts share: the requests they saw, and checks that record their outcome instead of raising.

Each script runs in its own old environment (`python tests/contract/oldsdk/<script>.py BASE_URL`) with this
directory first on sys.path, hooks its SDK's HTTP layer to append to PATHS (and BODIES), and prints `report(...)`:
one JSON object the pytest side asserts on."""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Callable
from typing import Any

PATHS: list[str] = []  # every request the SDK sent: "METHOD /path[?query]"
BODIES: list[Any] = []  # their JSON bodies, for the scripts that record them
CHECKS: dict[str, Any] = {}


def check(name: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Run the decorated function now (a coroutine too) and keep its result, or its error, under `name`, with the
    requests it made."""

    def wrap(fn: Callable[[], Any]) -> Callable[[], Any]:
        paths, bodies = len(PATHS), len(BODIES)
        try:
            result = fn()
            if asyncio.iscoroutine(result):
                result = asyncio.run(result)
            CHECKS[name] = result
        except Exception as exc:  # recorded, asserted by the pytest side
            CHECKS[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]}
        if isinstance(CHECKS[name], dict):
            CHECKS[name]["paths"] = PATHS[paths:]
            CHECKS[name]["bodies"] = BODIES[bodies:]
        return fn

    return wrap


def enum_name(value: Any) -> Any:
    return getattr(value, "name", value)


def report(sdk: str, version: str) -> str:
    return json.dumps({"meta": {"sdk": sdk, "version": version}, "checks": CHECKS, "paths": PATHS}, default=str)
