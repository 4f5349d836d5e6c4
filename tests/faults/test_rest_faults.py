"""Fault scenarios on the REST side: gateways that answer 429/500/502/503, connections reset before the answer,
and a server that takes a create, makes the task, then drops the connection without answering.

Each fault is aimed first at creates, then at status reads. What is counted is what the user got against what
the server really made (its own task table): no create may make two tasks; a create is sent again only when
the server provably never took it (429 and 503 refuse before doing anything); any other failed create is the
typed error, saying so; reads are always retried. The same holds for a video's retry call (``retry_failed``):
its answer lost, the task's status says whether it took. Recovery: from the last faulted request to the next
REST call that succeeds.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from conduit_widget import ConduitClient, ConduitError, NetworkError, ServerError, protocol
from conduit_widget.client.task import Task
from conduit_widget.server import LocalConduit
from conduit_widget.server.faults import FaultMode
from tests.faults.scenario import FAST, SOAK, Watch, check, settle

CREATE = protocol.IMAGE_CREATE
STATUS = "/v1/images/generations/"  # the status route's prefix (the fault is for GETs only)


@dataclass(frozen=True)
class RestFault:
    scenario: str
    mode: FaultMode = "status"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 2  # requests in a row the fault answers
    create_error: type[ConduitError] | None = None  # None: the create is sent again, and goes through
    orphans: bool = False  # the server makes the task although the user hears of a failure

    @property
    def body(self) -> dict[str, object] | None:
        if self.mode != "status":
            return None
        return {"error": {"message": f"injected {self.status}", "type": "server_error", "param": None, "code": None}}


FAULTS = [
    RestFault("REST 429 + Retry-After", status=429, headers={"Retry-After": "1"}, times=1),
    RestFault("REST 500", status=500, create_error=ServerError),
    RestFault("REST 502", status=502, create_error=ServerError),
    RestFault("REST 503", status=503),
    RestFault("REST reset before the answer", mode="reset", create_error=NetworkError),
    RestFault("REST reset after the create", mode="reset_after", create_error=NetworkError, orphans=True),
]


class Successes:
    """When the client's REST calls got an answer below 400, by method (an httpx response hook on its client)."""

    def __init__(self, client: ConduitClient) -> None:
        self.times: list[tuple[float, str]] = []
        client.rest._http.event_hooks["response"].append(self._seen)

    async def _seen(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            self.times.append((time.monotonic(), response.request.method))

    def first_after(self, since: float, method: str | None = None) -> float:
        """Seconds from `since` to the next success of a `method` call (a background read does not count
        as the recovery of a create), or of any call."""
        after = [t for t, verb in self.times if t > since and method in (None, verb)]
        assert after, f"no {method or 'REST'} call succeeded after the fault"
        return min(after) - since


def last_fault(server: LocalConduit, method: str) -> float:
    taken = [when for when, verb, _ in server.faults_taken() if verb == method]
    assert taken, f"no {method} request met the fault: it did not bite"
    return max(taken)


@pytest.mark.parametrize("fault", FAULTS, ids=[f.scenario for f in FAULTS])
async def test_rest_fault(fault: RestFault) -> None:
    creates = 12 if SOAK else 4
    with LocalConduit(speed=20) as server:
        async with ConduitClient(server.base_url, server.api_key, **FAST) as client:
            watch = Watch(client)
            successes = Successes(client)
            prompts: list[str] = []
            tasks: list[Task] = []
            errors: list[ConduitError] = []
            tasks.append(await client.generate_image(f"{fault.scenario} warm-up", size="64x64"))
            prompts.append(f"{fault.scenario} warm-up")

            # Creates: the fault answers the first `times` of them (or of their attempts).
            spec = {"mode": fault.mode, "status": fault.status, "body": fault.body, "headers": fault.headers}
            server.inject_fault(CREATE, method="POST", count=fault.times, **spec)
            for i in range(creates):
                prompt = f"{fault.scenario} #{i}"
                prompts.append(prompt)
                try:
                    tasks.append(await client.generate_image(prompt, size="64x64"))
                except ConduitError as exc:
                    errors.append(exc)
            create_recovery = successes.first_after(last_fault(server, "POST"), "POST")

            # Reads: every one may be sent again, whatever the fault.
            server.inject_fault(STATUS, method="GET", count=fault.times, **spec)
            body = await client.rest.status("image", tasks[0].id)
            assert body["task_id"] == tasks[0].id
            read_recovery = successes.first_after(last_fault(server, "GET"), "GET")

            tally = await settle(fault.scenario, watch, tasks, set(), timeout=30)
            tally.started = len(prompts)
            tally.recovery = [create_recovery, read_recovery]
        made = Counter(record.prompt for record in server.tasks())
    made_twice = sum(count - 1 for count in made.values() if count > 1)
    user_has = {task.request["prompt"] for task in tasks if task.request is not None}
    orphans = sum(1 for prompt in made if prompt not in user_has)
    never_made = sum(1 for prompt in user_has if prompt not in made)
    expected_errors = fault.times if fault.create_error is not None else 0
    right_errors = [e for e in errors if fault.create_error is not None and isinstance(e, fault.create_error)]
    tally.failed_as_expected = len(right_errors)
    tally.unexpected += len(errors) - len(right_errors)
    tally.lost += never_made + max(0, expected_errors - len(errors))  # a create that should have gone through
    tally.duplicated += made_twice
    verb = (
        "sent again, went through"
        if fault.create_error is None
        else f"not sent again, {fault.create_error.__name__} (the 'failed as expected')"
    )
    tally.notes = (
        f"{fault.times} create{'s' if fault.times > 1 else ''} faulted: {verb}; {len(tasks)} tasks for the user,"
        f" {sum(made.values())} on the server"
        + (f" ({orphans} made though the user was told the create failed, and that it may exist)" if orphans else "")
        + f"; {fault.times} read{'s' if fault.times > 1 else ''} faulted: sent again, went through; recovery"
        f" {create_recovery:.2f} s (create), {read_recovery:.2f} s (read)"
    )
    check(tally)
    assert made_twice == 0, f"a create was sent twice and made two tasks: {made}"
    assert len(errors) == expected_errors, f"expected {expected_errors} typed errors, got {errors!r}"
    assert len(right_errors) == len(errors), f"wrong error types: {errors!r}"
    assert orphans == (expected_errors if fault.orphans else 0), f"{orphans} tasks made that the user never got"
    if fault.mode != "status":
        assert all("not sent again" in e.message for e in errors), [e.message for e in errors]
    else:
        assert all(e.status == fault.status for e in errors), [e.status for e in errors]


@dataclass(frozen=True)
class RetryFault:
    scenario: str
    mode: FaultMode
    status: int = 500
    took: bool = True  # the server started the retry although the client got no answer to it


RETRY_FAULTS = [
    RetryFault("REST reset after a video retry", mode="reset_after"),
    RetryFault("REST 502 on a video retry", mode="status", status=502, took=False),
]


@pytest.mark.parametrize("fault", RETRY_FAULTS, ids=[f.scenario for f in RETRY_FAULTS])
async def test_a_video_retry_whose_answer_is_lost(fault: RetryFault) -> None:
    """``retry_failed`` makes a failed video again under the same task id (``POST .../retry``). That call is no
    read: sent twice, the second is refused (the task is no longer failed) or starts it twice. When its answer is
    lost, whether the retry took is for the server's status to say. `test-flaky` fails its first attempt only."""
    count = 6 if SOAK else 2
    with LocalConduit(speed=4) as server:  # a 1 s video fails about 0.5 s in, then takes about 1.2 s
        async with ConduitClient(server.base_url, server.api_key, retry_failed=1, **FAST) as client:
            watch = Watch(client)
            successes = Successes(client)
            tasks: list[Task] = []
            for i in range(count):
                task = await client.generate_video(
                    f"{fault.scenario} {i}", size="64x64", duration=1, model="test-flaky"
                )
                retry = protocol.VIDEO_RETRY.format(task_id=task.id)
                server.inject_fault(retry, mode=fault.mode, status=fault.status, method="POST")
                tasks.append(task)
            tally = await settle(fault.scenario, watch, tasks, set(), timeout=30)
            retries = [when for when, verb, path in server.faults_taken() if verb == "POST" and path.endswith("/retry")]
            # Until the client knows: the status read that finds the retry under way, or the retry sent again.
            method = None if fault.took else "POST"
            if retries and any(t > max(retries) and method in (None, verb) for t, verb in successes.times):
                tally.recovery = [successes.first_after(max(retries), method)]
            made = {record.id: record for record in server.tasks()}
    retried_on_server = sum(made[t.id].retry_count for t in tasks)
    tally.notes = (
        f"{count} test-flaky videos (they fail once), retry_failed=1, each retry call answered"
        f" {'by a reset after the server did it' if fault.took else f'{fault.status} before it got there'}:"
        f" {'the status read found it under way' if fault.took else 'sent again once the status showed it still failed'};"
        f" {retried_on_server} retries run on the server; endings: {', '.join(sorted(t.status for t in tasks))}"
        + "".join(f"; {t.result.error}" for t in tasks if t.result is not None and t.result.error)[:300]
    )
    check(tally)
    assert len(retries) == count, "the fault did not bite every retry"
    assert retried_on_server == count, f"{retried_on_server} retries for {count} failures: one was sent twice"
    assert all(t.attempts == [t.id] and t.retries_used == 1 for t in tasks)
