"""Non-finite, out-of-range and over-deep input: a 400 (or the hub's refusal) with a clear message, as
System.Text.Json and SignalR give it, and never a 500 or a traceback in the server's log (issue 17)."""

from __future__ import annotations

import logging

import httpx
import pytest

from conduit_widget.server.profiles import get_profile
from tests.server.helpers import Api
from tests.server.test_hub_protocol import RS, frames, raw, receive_until

REFUSED = pytest.mark.security("the local Conduit answers non-finite, out-of-range and over-deep input with 400")
INT32 = "The JSON value could not be converted to System.Int32."
DEEP = "[" * 100_000 + "]" * 100_000
DEEP_HUB = "[" * 5_000 + "]" * 5_000  # past Python's recursion limit, within the hub's message size

# (what `n`, an int? member of every image request, is sent as; the message MVC gives for it)
NUMBERS = [
    ("NaN", "'N' is an invalid start of a value."),
    ("Infinity", "'I' is an invalid start of a value."),
    ("-Infinity", "'-' is an invalid start of a value."),
    ("1e400", INT32),
    ("-1e400", INT32),
    ('"1e400"', INT32),
    ("2147483648", INT32),
    ("9" * 5000, INT32),  # past Python's 4300-digit conversion limit: the server's words, not Python's
    ("1.5", INT32),
    (DEEP, "The maximum configured depth of 32 has been exceeded."),
]


def _post(api: Api, member: str, raw_value: str) -> httpx.Response:
    body = '{"prompt": "a fox", "model": "dall-e-3", "' + member + '": ' + raw_value + "}"
    return api.http.post(api.path("image_create"), content=body, headers={"Content-Type": "application/json"})


@REFUSED
@pytest.mark.parametrize(("raw_value", "message"), NUMBERS, ids=[n[:12] for n, _ in NUMBERS])
def test_a_non_finite_out_of_range_or_over_deep_number_is_a_400_naming_it(served, raw_value, message, caplog):
    caplog.set_level(logging.WARNING)
    with Api(served) as api:
        response = _post(api, "n", raw_value)
    assert response.status_code == 400
    body = response.json()
    if get_profile(served.config.profile).json == "gateway":  # the Gateway words every unreadable body alike
        assert body["error"]["code"] == "invalid_request_body"
    else:
        path = "$" if raw_value is DEEP else "$.n"
        [said] = body["errors"][path]
        assert said.startswith(message)
        assert "\n" not in said
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@REFUSED
@pytest.mark.parametrize("raw_value", ["NaN", "-Infinity", DEEP])
def test_a_member_the_server_does_not_know_is_read_as_strictly(served, raw_value):
    # [JsonExtensionData] keeps unknown members as JsonElements: still read, so still refused when not JSON.
    with Api(served) as api:
        assert _post(api, "extra", raw_value).status_code == 400


def test_an_out_of_range_number_the_server_does_not_know_is_kept_and_the_task_still_runs(served):
    # A JsonElement holds 1e400 without converting it: System.Text.Json takes it, and so does the local Conduit.
    with Api(served) as api:
        response = _post(api, "extra", "1e400")
        assert response.status_code == 202
        body = response.json()
        task_id = next(body[name] for name in ("task_id", "taskId", "request_id") if name in body)
        assert api.wait("image", task_id)["status"] == "completed"


@REFUSED
async def test_an_over_deep_handshake_is_refused_as_any_malformed_one(conduit, caplog):
    caplog.set_level(logging.WARNING)
    async with raw(conduit, handshake=False) as ws:
        await ws.send_str('{"protocol": "json", "version": 1, "x": ' + DEEP_HUB + "}" + RS)
        answer = frames(await ws.receive_str(timeout=5))
    assert answer == [{"error": "An unexpected error occurred during connection handshake."}]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@REFUSED
@pytest.mark.parametrize("depth", [65, 5_000])
async def test_a_hub_message_deeper_than_signalrs_reader_takes_closes_the_connection_with_an_error(
    conduit, depth, caplog
):
    caplog.set_level(logging.WARNING)
    nested = "[" * (depth - 1) + "]" * (depth - 1)  # the message object itself is the first level
    async with raw(conduit) as ws:
        await ws.send_str('{"type": 1, "target": "SubscribeToTask", "arguments": ' + nested + "}" + RS)
        close = await receive_until(ws, 7)
    assert close["error"] == "Connection closed with an error."
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_hub_message_at_signalrs_depth_limit_is_read(conduit):
    nested = "[" * 63 + "]" * 63
    async with raw(conduit) as ws:
        await ws.send_str('{"type": 6, "x": ' + nested + "}" + RS)  # a ping with a member nobody reads
        await ws.send_str('{"type": 1, "target": "NoSuchMethod", "invocationId": "1", "arguments": []}' + RS)
        completion = await receive_until(ws, 3)
    assert completion["invocationId"] == "1"  # the connection is still up and answering
