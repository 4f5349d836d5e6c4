"""Fault scenario: garbage on the hub connection, from the server's side (the proxy's ``corrupt()``).

Two kinds, taken in turn: ``flip`` inverts the bits of what the server sends next, so the WebSocket framing
itself breaks; ``frame`` slips a well-formed text frame in between two frames, so the WebSocket is fine but the
hub message in it is not one. Broken framing must cost the connection (dropped on both ends: not kept open beside
the new one), a reconnect, and no task: whatever the garbage replaced, the reconnect's status reads make up for.
A bad hub message costs only itself: the connection stays. Recovery: from the garbage going out to the hub link
being connected again.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable

from conduit_widget import ConduitClient
from conduit_widget.client.task import Task
from conduit_widget.server import LocalConduit
from tests.faults.proxy import FaultProxy
from tests.faults.scenario import FAST, SOAK, Watch, check, last_cut_and_back, port_of, settle


async def until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until `condition` holds, polled every 20 ms."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not within {timeout:g} s: {what}"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_garbage_on_the_hub_connection_is_dropped_with_it_and_nothing_is_lost() -> None:
    corruptions = 20 if SOAK else 4
    with LocalConduit(speed=10) as server:
        async with FaultProxy(port_of(server)) as proxy, ConduitClient(proxy.url, server.api_key, **FAST) as client:
            watch = Watch(client)
            tasks: list[Task] = []
            failing: set[str] = set()

            async def create(model: str) -> None:
                task = await client.generate_image(f"corrupt {len(tasks)}", size="64x64", model=model)
                tasks.append(task)
                if model == "test-fail":
                    failing.add(task.id)

            for model in ["test-slow"] * 6 + ["dall-e-3", "test-fail"]:  # test-slow: about 5 s at speed 10
                await create(model)
            await watch.up_after(0, 10)
            detection: list[float] = []
            recovery: list[float] = []
            closed: list[float] = []
            ignored: list[str] = []
            for n in range(corruptions):
                how = "flip" if n % 2 == 0 else "frame"
                before = len(proxy.corruptions)
                proxy.corrupt(how)
                # It goes out with the next frame the server sends: the slow tasks' progress comes every 0.25 s.
                await until(lambda before=before: len(proxy.corruptions) > before, 10, f"a {how} corruption went out")
                since = proxy.corruptions[-1]
                if how == "frame":
                    # A well-formed WebSocket frame that holds no hub message: the link drops that message (at
                    # DEBUG) and keeps the connection, so there is nothing to recover from.
                    await asyncio.sleep(1.0)
                    assert not any(t > since for t in watch.downs), "a garbage hub message cost the connection"
                    ignored.append(how)
                else:
                    detection.append(await watch.down_after(since, 10))
                    recovery.append(await watch.up_after(since, 10))
                    # The broken connection is closed on both ends, not left open beside the new one.
                    closed.append(
                        await until(
                            lambda: proxy.websockets == 1 and server.hub_connections == 1,
                            5,
                            f"the connection broken by {how!r} closed ({proxy.websockets} WebSockets through the"
                            f" proxy, {server.hub_connections} on the server)",
                        )
                    )
                for model in ("test-slow", "dall-e-3", "test-fail") if n % 2 else ("test-slow", "dall-e-3"):
                    await create(model)
            tally = await settle("corrupt frames", watch, tasks, failing, timeout=60)
            await last_cut_and_back(proxy, watch, tally, tasks)
            tally.recovery = recovery
            tally.notes = (
                f"{corruptions} corruptions, in turn bits flipped on the wire and a text frame that is no hub"
                f" message. Flipped bits broke the WebSocket: the link dropped"
                f" {1000 * statistics.median(detection):.0f} ms (median) after they went out, and the broken socket"
                f" was closed on both ends within {1000 * max(closed):.0f} ms of the new link. The {len(ignored)}"
                " garbage messages were dropped on their own, the connection kept"
            )
    check(tally)
    assert tally.failed_as_expected == len(failing) > 0
