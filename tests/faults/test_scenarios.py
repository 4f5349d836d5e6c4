"""Fault scenarios: the client against the local Conduit through a proxy that cuts, stalls and refuses.

Each scenario records, per task, whether it started, completed, failed as it should, was lost (no terminal
state by the end) or duplicated (a terminal event delivered twice), and how long the hub link took to come
back after each fault ended. ``conftest.py`` turns the figures into ``docs/reliability.md``.
The default run is short; ``CONDUIT_SOAK=1`` runs the long versions from issue 6.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx

from conduit_widget import ConduitClient, Keepalive
from conduit_widget.client.task import Task
from conduit_widget.server import LocalConduit
from tests.faults.conftest import Tally
from tests.faults.proxy import FaultProxy
from tests.faults.scenario import FAST, SOAK, Watch, check, last_cut_and_back, port_of, settle


async def test_connections_cut_every_two_seconds_while_tasks_run() -> None:
    duration, count = (60.0, 200) if SOAK else (10.0, 40)
    cuts = int(duration / 2)
    with LocalConduit(speed=5) as server:
        async with FaultProxy(port_of(server)) as proxy, ConduitClient(proxy.url, server.api_key, **FAST) as client:
            watch = Watch(client)
            tasks: list[Task] = []
            failing: set[str] = set()

            async def create(n: int, model: str) -> None:
                for _ in range(n):
                    is_failure = (len(tasks) + 1) % 10 == 0
                    task = await client.generate_image(
                        f"cut {len(tasks)}", size="64x64", model="test-fail" if is_failure else model
                    )
                    tasks.append(task)
                    if is_failure:
                        failing.add(task.id)

            await create(count // 4, "test-slow")  # about 10 s each at speed 5: they live through every cut
            await watch.up_after(0, 10)
            per_cut = (count - len(tasks)) // cuts
            recovery = []
            start = time.monotonic()
            for n in range(cuts):
                await asyncio.sleep(max(0.0, start + 2 * (n + 1) - time.monotonic()))  # the schedule: a cut every 2 s
                since = time.monotonic()
                assert proxy.cut() >= 1, "nothing to cut: the client is not connected through the proxy"
                recovery.append(await watch.up_after(since, 10))
                await create(per_cut if n < cuts - 1 else count - len(tasks), "dall-e-3")
            tally = await settle("cuts every 2 s", watch, tasks, failing, timeout=60)
            await last_cut_and_back(proxy, watch, tally, tasks)
            tally.recovery = recovery
            tally.notes = f"{cuts} cuts over {duration:g} s, {proxy.connections} connections through the proxy"
    check(tally)
    assert tally.failed_as_expected == len(failing) > 0


async def test_a_stalled_network_is_noticed_and_the_client_reconnects() -> None:
    count = 60 if SOAK else 20
    with LocalConduit(speed=5, keepalive_interval=0.5, client_timeout=2.0) as server:
        # The soak run measures the default keepalive (a ping after 5 s of quiet, 5 s for the pong); the quick run
        # a 1 s one.
        keepalive = Keepalive() if SOAK else Keepalive(ping_interval=1.0, ping_timeout=1.0)
        async with (
            FaultProxy(port_of(server)) as proxy,
            ConduitClient(proxy.url, server.api_key, keepalive=keepalive, **FAST) as client,
        ):
            watch = Watch(client)
            tasks = [await client.generate_image(f"stall {i}", size="64x64", model="test-slow") for i in range(count)]
            await watch.up_after(0, 10)
            stalled_at = time.monotonic()
            proxy.stall(True)
            try:
                detection = await watch.down_after(stalled_at, 60)
                assert client.connection_state("image") != "connected"
            finally:
                proxy.stall(False)
            resumed = time.monotonic()
            recovery = [await watch.up_after(resumed, 30)]
            tally = await settle("network stall", watch, tasks, set(), timeout=60)
            await last_cut_and_back(proxy, watch, tally, tasks)
            tally.recovery = recovery
            limit = keepalive.ping_interval + keepalive.ping_timeout
            tally.notes = (
                f"dead link noticed after {detection:.1f} s (keepalive: ping after {keepalive.ping_interval:g} s of"
                f" quiet, {keepalive.ping_timeout:g} s for the pong)"
            )
    check(tally)
    assert detection < limit + 1.0, f"the dead link took {detection:.1f} s to notice, more than {limit:g} s + 1 s"


async def test_new_connections_refused_for_five_seconds() -> None:
    count = 100 if SOAK else 20
    with LocalConduit(speed=5) as server:
        async with FaultProxy(port_of(server)) as proxy, ConduitClient(proxy.url, server.api_key, **FAST) as client:
            watch = Watch(client)
            tasks = [await client.generate_image(f"refused {i}", size="64x64", model="test-slow") for i in range(count)]
            await watch.up_after(0, 10)
            refused_at = time.monotonic()
            proxy.refuse(True)
            try:
                proxy.cut()
                await watch.down_after(refused_at, 10)
                await asyncio.sleep(5)  # the fault lasts 5 s whatever the client does
                assert client.connection_state("image") != "connected"
                assert proxy.refused > 0, "the client did not try to reconnect while refused"
            finally:
                proxy.refuse(False)
            accepted = time.monotonic()
            recovery = [await watch.up_after(accepted, 30)]
            tally = await settle("refused for 5 s", watch, tasks, set(), timeout=60)
            await last_cut_and_back(proxy, watch, tally, tasks)
            tally.recovery = recovery
            tally.notes = f"{proxy.refused} connections refused"
    check(tally)


async def test_a_server_down_at_start_is_waited_for() -> None:
    count, down = (50, 30.0) if SOAK else (10, 3.0)
    with LocalConduit(speed=5) as server:
        headers = {"Authorization": f"Bearer {server.api_key}"}
        async with httpx.AsyncClient(headers=headers) as http:
            ids = []
            for i in range(count):
                created = await http.post(
                    server.base_url + "/v1/images/generations/async",
                    json={"prompt": f"early {i}", "model": "test-slow", "size": "64x64"},
                )
                ids.append(created.json()["task_id"])
        async with FaultProxy(port_of(server)) as proxy:
            proxy.refuse(True)
            async with ConduitClient(proxy.url, server.api_key, **FAST) as client:
                watch = Watch(client)
                try:
                    tasks = [client.task(task_id) for task_id in ids]
                    await watch.down_after(0, 10)
                    await asyncio.sleep(down)  # the server stays down this long whatever the client does
                    assert client.connection_state("image") != "connected"
                    assert not any(t.done for t in tasks)
                finally:
                    proxy.refuse(False)
                accepted = time.monotonic()
                recovery = [await watch.up_after(accepted, 30)]
                tally = await settle(f"down {down:g} s at start", watch, tasks, set(), timeout=60)
                await last_cut_and_back(proxy, watch, tally, tasks)
                tally.recovery = recovery
                tally.notes = f"{proxy.refused} connections refused while down"
    check(tally)


def test_recovery_figures_are_summarised() -> None:
    tally = Tally(scenario="x", recovery=[1.0, 3.0, 2.0])
    assert (tally.recovery_median, tally.recovery_max) == (statistics.median([1.0, 3.0, 2.0]), 3.0)


async def test_with_the_default_backoff_the_hub_is_back_soon_after_the_server() -> None:
    """A backoff grown during an outage must not keep the hub away once the server answers again: the first
    REST call that goes through cuts the wait short."""
    with LocalConduit(speed=5) as server:
        async with (
            FaultProxy(port_of(server)) as proxy,
            ConduitClient(proxy.url, server.api_key, connect_timeout=1.0) as client,
        ):
            watch = Watch(client)
            task = await client.generate_image("patient", size="64x64", model="test-slow")
            await watch.up_after(0, 10)
            refused_at = time.monotonic()
            proxy.refuse(True)
            try:
                proxy.cut()
                await watch.down_after(refused_at, 10)
                await asyncio.sleep(8)  # long enough for the default backoff to grow past 2 s
            finally:
                proxy.refuse(False)
            accepted = time.monotonic()
            recovery = await watch.up_after(accepted, 30)
            assert (await task.wait(60)).ok
    assert recovery < 2.5, f"the hub came back {recovery:.1f} s after the server did"
