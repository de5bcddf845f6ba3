"""An idle continuous batcher lets requests that arrive together start in the same prefill step."""

import asyncio
import time

from genserve.engines.continuous import AdmissionWindow


async def _arrivals(window: AdmissionWindow, gaps_ms: list[float]) -> list[float]:
    async def one(delay: float) -> float:
        await asyncio.sleep(delay)
        await window.wait()
        return time.perf_counter()

    delays = [sum(gaps_ms[: i + 1]) / 1000 for i in range(len(gaps_ms))]
    return await asyncio.gather(*(one(d) for d in delays))


async def test_requests_a_millisecond_apart_are_admitted_together():
    admitted = await _arrivals(AdmissionWindow(0.050, lambda: 0), [0, 1, 1, 1, 1, 1, 1, 1])
    assert max(admitted) - min(admitted) < 0.001  # one release for all eight


async def test_a_busy_batcher_admits_at_once_and_the_window_is_capped():
    t0 = time.perf_counter()
    await AdmissionWindow(0.050, lambda: 3).wait()  # the next step takes it anyway
    assert time.perf_counter() - t0 < 0.002
    t0 = time.perf_counter()
    admitted = await _arrivals(AdmissionWindow(0.010, lambda: 0), [0] + [2] * 15)  # a 30 ms stream of arrivals
    assert min(admitted) - t0 < 0.025  # the first does not wait for the whole stream


async def test_no_window_when_it_is_turned_off():
    t0 = time.perf_counter()
    await AdmissionWindow(0, lambda: 0).wait()
    assert time.perf_counter() - t0 < 0.002
