"""Bad input to every public entry point of the client: one clear error naming the argument, never the key.

For each argument of `ConduitClient(...)`, `generate_image`/`generate_video` (async, and the blocking
helpers), `task()`, `on()`, `Task.wait()` and `Task.on_update()`, hypothesis draws wrong values (wrong
types, NaN and the infinities, negatives, empty strings, strings that are almost right) and right ones.
A wrong value must raise a `ConfigurationError` whose message names the argument, before anything is sent
or started, and no message may contain the API key, even when the key was passed where the URL belongs. A
right value must not raise.
"""

from __future__ import annotations

import asyncio
import math
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import conduit_widget
from conduit_widget import (
    Backoff,
    ConduitClient,
    ConduitError,
    ConfigurationError,
    DeadlineExceededError,
    LocalConduit,
)
from conduit_widget.client import sync
from conduit_widget.client.client import EVENTS
from conduit_widget.client.policies import Keepalive, RetryPolicy
from conduit_widget.client.rest import RestClient
from conduit_widget.client.secret import Secret
from conduit_widget.protocol import IMAGE_CANCEL, IMAGE_STATUS, VIDEO_CANCEL, VIDEO_STATUS
from tests.client.offline import loose_task

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
URL = "https://conduit.example.com"
NOWHERE = "http://127.0.0.1:9"  # a client pointed here is never started by these tests


@pytest.fixture(autouse=True, scope="module")
def no_conduit_in_the_environment() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CONDUIT_BASE_URL", "CONDUIT_API_KEY", "CONDUIT_IMAGE_MODEL", "CONDUIT_VIDEO_MODEL"):
            patch.delenv(name, raising=False)
        yield


# Each key starts (after any condt_) and ends with "Qz7": the leak check looks for the key's first and last 12
# characters, and a key made of letters could otherwise be words the messages use ("Configuratio0000").
keys = st.one_of(
    st.text(string.ascii_letters + string.digits + "_-", min_size=12, max_size=40).map(
        lambda s: "condt_Qz7" + s + "Qz7"
    ),
    st.text(string.ascii_letters + string.digits + "!#$%&*+-.^_|~", min_size=16, max_size=40).map(
        lambda s: "Qz7" + s + "Qz7"
    ),
)
not_numbers = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5), st.lists(st.integers(), max_size=2), st.just(object())
)
not_finite = st.sampled_from([math.nan, math.inf, -math.inf])


def bad_seconds(optional: bool = False, zero: bool = False) -> st.SearchStrategy[Any]:
    """Not a number of seconds greater than 0 (or, with `zero`, at least 0); None is right if `optional`."""
    nonpositive = st.floats(max_value=0.0, allow_nan=False) | st.integers(max_value=0)
    negative = st.floats(max_value=-1e-9, allow_nan=False) | st.integers(max_value=-1)
    wrong = st.one_of(negative if zero else nonpositive, not_finite, not_numbers.filter(lambda v: v is not None))
    return wrong if optional else wrong | st.none()


def bad_whole(minimum: int, optional: bool = False) -> st.SearchStrategy[Any]:
    wrong = st.one_of(
        st.integers(max_value=minimum - 1),
        st.floats(allow_nan=True),
        st.booleans(),
        st.text(max_size=3),
        st.just(object()),
    )
    return wrong if optional else wrong | st.none()


def bad_choice(options: tuple[str, ...]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.text(max_size=12).filter(lambda t: t not in options),
        st.sampled_from([o.upper() for o in options] + [o + " " for o in options]),
        not_numbers,
        st.lists(st.sampled_from(options), min_size=1, max_size=2),
    )


good_seconds = st.floats(min_value=0.001, max_value=1e6) | st.integers(1, 10**6)

BAD_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "transport": bad_choice(("auto", "websocket", "polling")),
    "hub_protocol": bad_choice(("json", "messagepack")),
    "routes": bad_choice(("auto", "conduit", "successor")),
    "timeout": bad_seconds(),
    "connect_timeout": bad_seconds(),
    "total_timeout": bad_seconds(optional=True),
    "max_retries": bad_whole(0),
    "max_reconnect_attempts": bad_whole(0, optional=True),
    "backoff": st.one_of(not_numbers, st.just(Keepalive())),  # a wrong Backoff(...) fails as it is made: below
    "keepalive": st.one_of(not_numbers, st.just(Backoff())),
    "poll_interval": bad_seconds(),
    "watchdog_interval": bad_seconds(),
    "retry_failed": bad_whole(0),
    "local_speed": bad_seconds(optional=True),
}
GOOD_OPTIONS: dict[str, st.SearchStrategy[Any]] = {
    "transport": st.sampled_from(["auto", "websocket", "polling"]),
    "hub_protocol": st.sampled_from(["json", "messagepack"]),
    "routes": st.sampled_from(["auto", "conduit", "successor"]),
    "timeout": good_seconds,
    "connect_timeout": good_seconds,
    "total_timeout": st.none() | good_seconds,
    "max_retries": st.integers(0, 100),
    "max_reconnect_attempts": st.none() | st.integers(0, 100),
    "backoff": st.builds(Backoff, st.floats(0.001, 10), st.floats(10, 100)),
    "keepalive": st.builds(Keepalive, good_seconds, good_seconds, good_seconds),
    "poll_interval": good_seconds,
    "watchdog_interval": good_seconds,
    "retry_failed": st.integers(0, 10),
    "local_speed": st.none() | good_seconds,
}


def assert_names(error: BaseException, name: str, key: str | None = None) -> None:
    """The error is typed, names the argument, and does not repeat the key."""
    assert isinstance(error, ConfigurationError), f"{type(error).__name__}: {error}"
    assert name in str(error), f"the message does not name {name!r}: {error}"
    if key is not None:
        for text in (str(error), repr(error), error.message):
            assert key not in text and key[:12] not in text and key[-12:] not in text, text


# -- ConduitClient(...) ---------------------------------------------------------------------------


@FAST
@given(name=st.sampled_from(sorted(BAD_OPTIONS)), data=st.data(), key=keys)
def test_each_wrong_client_option_is_named(name: str, data: st.DataObject, key: str) -> None:
    value = data.draw(BAD_OPTIONS[name], label=name)
    # A wrong value is quoted back; one that happens to spell part of the key would look like a leak.
    assume(key[-12:] not in repr(value) and key[:12] not in repr(value))
    with pytest.raises(ConduitError) as info:
        ConduitClient(URL, key, **{name: value})
    assert_names(info.value, name.split("_")[0] if name == "backoff" else name, key)


BAD_BACKOFFS = st.one_of(
    st.tuples(bad_seconds(), st.just(30.0)),
    st.tuples(st.just(0.5), bad_seconds()),
    st.just((10.0, 1.0)),  # a maximum below the initial delay
)


@FAST
@given(values=BAD_BACKOFFS)
def test_a_wrong_backoff_is_named_as_it_is_made(values: tuple[Any, Any]) -> None:
    with pytest.raises(ConduitError) as info:
        Backoff(*values)
    assert_names(info.value, "backoff")
    with pytest.raises(ConduitError) as info:
        RetryPolicy(backoff=values)  # type: ignore[arg-type]
    assert_names(info.value, "backoff")


@FAST
@given(options=st.fixed_dictionaries({}, optional=GOOD_OPTIONS), key=keys)
def test_right_client_options_are_taken(options: dict[str, Any], key: str) -> None:
    client = ConduitClient(URL, key, **options)
    assert key not in repr(client)


bad_urls = st.one_of(
    st.text(max_size=30).filter(lambda t: not t.startswith(("http://", "https://")) and t.strip() != ""),
    st.sampled_from(
        [
            "ftp://conduit.example.com",
            "http://",
            "https://",
            "http://[::1",
            "https://conduit .example.com",
            "https://conduit.example.com/\n",
            "conduit.example.com",
            "//conduit.example.com",
            "HTTPS//conduit.example.com",
        ]
    ),
    st.integers(),
    st.binary(min_size=1, max_size=10),
    st.lists(st.just(URL), min_size=1, max_size=2),
)


@FAST
@given(url=bad_urls, key=keys)
def test_a_wrong_base_url_is_named(url: Any, key: str) -> None:
    with pytest.raises(ConduitError) as info:
        ConduitClient(url, key)
    assert_names(info.value, "base_url", key)


@FAST
@given(key=keys, where=st.sampled_from(["alone", "swapped", "both", "in the url", "past the cut", "in the env"]))
def test_a_key_passed_where_the_url_belongs_is_never_repeated(key: str, where: str, monkeypatch) -> None:
    """`ConduitClient("condt_...")`, or the two arguments swapped: the message must not print the key into a
    notebook cell (and so into the saved notebook)."""
    monkeypatch.delenv("CONDUIT_API_KEY", raising=False)
    if where == "alone":
        call: dict[str, Any] = {"base_url": key}
    elif where == "swapped":
        call = {"base_url": key, "api_key": URL}
    elif where == "both":
        call = {"base_url": key, "api_key": key}
    elif where == "in the url":
        call = {"base_url": f"ftp://conduit.example.com/?api_key={key}", "api_key": key}
    elif where == "past the cut":  # where a long message is shortened, mid-key
        call = {"base_url": "ftp://conduit.example.com/" + "x" * 36 + key, "api_key": key}
    else:
        monkeypatch.setenv("CONDUIT_API_KEY", key)
        call = {"base_url": key}
    with pytest.raises(ConduitError) as info:
        ConduitClient(**call)
    assert_names(info.value, "base_url", key)


@FAST
@given(
    key=st.one_of(
        st.integers(),
        st.binary(max_size=20),
        st.lists(st.text(max_size=3), max_size=2),
        st.sampled_from(["", "   ", "\t", "condt_with space", "condt_tab\there", "condt_é_not_ascii", "condt_nul\x00"]),
    )
)
def test_a_wrong_api_key_is_named_and_not_repeated(key: Any) -> None:
    with pytest.raises(ConduitError) as info:
        ConduitClient(URL, key)
    assert isinstance(info.value, ConfigurationError)
    assert "key" in str(info.value).lower()
    if isinstance(key, str) and key.strip():
        assert key not in str(info.value)


# -- generate_image / generate_video --------------------------------------------------------------


def never_started(key: str = "condt_" + "k" * 20) -> ConduitClient:
    client = ConduitClient(NOWHERE, key)

    async def start() -> ConduitClient:
        raise AssertionError("a wrong argument reached the network")

    client.start = start  # type: ignore[method-assign]
    return client


bad_text = st.one_of(st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2), st.binary(max_size=4))
BAD_IMAGE: dict[str, st.SearchStrategy[Any]] = {
    "prompt": bad_text | st.sampled_from(["", "   ", "\n\t"]) | st.none(),
    "model": bad_text,
    "n": bad_whole(1, optional=True),
    "size": bad_text
    | st.sampled_from(
        ["", "1024", "1024x", "x1024", "1024\u00d71024", "1024 x 1024", "0x0", "-1x5", "1e3x1e3", "10x10x10"]
    )
    | st.text(max_size=12).filter(lambda s: "x" not in s),
    "quality": bad_text,
    "style": bad_text,
    "seed": bad_whole(0, optional=True),
    "extra": st.one_of(not_finite, st.just(object()), st.just({1, 2}), st.builds(lambda: [math.nan])),
}
BAD_VIDEO: dict[str, st.SearchStrategy[Any]] = {
    "prompt": BAD_IMAGE["prompt"],
    "model": bad_text,
    # Whole seconds from 1 to 60, as Conduit takes them: a fraction is refused, not rounded.
    "duration": bad_seconds(optional=True)
    | st.floats(0.001, 59.999).filter(lambda v: v != int(v))
    | st.integers(61, 10**6),
    "size": BAD_IMAGE["size"],
    "fps": bad_whole(1, optional=True),
    "seed": bad_whole(0, optional=True),
    "extra": BAD_IMAGE["extra"],
}


def _call(kind: str, name: str, value: Any) -> tuple[str, dict[str, Any]]:
    prompt = "a red fox in snow"
    if name == "prompt":
        return value, {}
    if name == "extra":
        return prompt, {"negative_prompt": value}
    return prompt, {name: value}


def _named(name: str) -> str:
    return "negative_prompt" if name == "extra" else name


@FAST
@given(kind=st.sampled_from(["image", "video"]), data=st.data())
def test_each_wrong_generate_argument_is_named_before_anything_is_sent(kind: str, data: st.DataObject) -> None:
    table = BAD_IMAGE if kind == "image" else BAD_VIDEO
    name = data.draw(st.sampled_from(sorted(table)), label="argument")
    prompt, options = _call(kind, name, data.draw(table[name], label=name))
    client = never_started()
    create = client.generate_image if kind == "image" else client.generate_video
    with pytest.raises(ConduitError) as info:
        asyncio.run(create(prompt, **options))
    assert_names(info.value, _named(name))


@FAST
@given(kind=st.sampled_from(["image", "video"]), data=st.data())
def test_each_wrong_blocking_helper_argument_is_named_before_anything_starts(
    kind: str, data: st.DataObject, monkeypatch
) -> None:
    def must_not_run(*args: Any) -> Any:
        raise AssertionError("a wrong argument got as far as starting a client")

    monkeypatch.setattr(sync, "_generate", must_not_run)
    helper = conduit_widget.generate_image if kind == "image" else conduit_widget.generate_video
    table = {**(BAD_IMAGE if kind == "image" else BAD_VIDEO), "timeout": bad_seconds(optional=True, zero=True)}
    name = data.draw(st.sampled_from(sorted(table)), label="argument")
    value = data.draw(table[name], label=name)
    if name == "timeout":
        prompt, options = "a red fox", {"timeout": value}
    else:
        prompt, options = _call(kind, name, value)
    with pytest.raises(ConduitError) as info:
        helper(prompt, base_url=NOWHERE, api_key="condt_" + "k" * 20, **options)
    assert_names(info.value, _named(name))


@settings(max_examples=5, deadline=None)
@given(
    base_url=bad_urls.filter(lambda u: isinstance(u, str)),
    key=keys,
)
def test_the_blocking_helpers_check_the_url_and_key_before_starting(base_url: str, key: str) -> None:
    with pytest.raises(ConduitError) as info:
        conduit_widget.generate_image("a fox", base_url=base_url, api_key=key)
    assert_names(info.value, "base_url", key)


class Loop:
    """One event loop for a module's worth of examples against the shared local Conduit."""

    def __init__(self, server: LocalConduit) -> None:
        self.runner = asyncio.Runner()
        self.client = ConduitClient(server.base_url, server.api_key)
        self.runner.run(self.client.start())

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    def close(self) -> None:
        self.run(self.client.aclose())
        self.runner.close()


@pytest.fixture(scope="module")
def loop(conduit: LocalConduit) -> Iterator[Loop]:
    loop = Loop(conduit)
    yield loop
    loop.close()


sizes = st.builds(lambda w, h: f"{w}x{h}", st.sampled_from([64, 96, 128]), st.sampled_from([64, 96, 128]))
GOOD_IMAGE = {
    "model": st.sampled_from([None, "", "dall-e-3"]),
    "n": st.none() | st.integers(1, 3),
    "size": st.none() | sizes,
    "quality": st.none() | st.sampled_from(["standard", "hd"]),
    "style": st.none() | st.sampled_from(["vivid", "natural"]),
    "seed": st.none() | st.integers(0, 2**31 - 1),
}


@settings(max_examples=8, deadline=None)
@given(
    prompt=st.text(min_size=1, max_size=60).filter(str.strip), options=st.fixed_dictionaries({}, optional=GOOD_IMAGE)
)
def test_right_image_arguments_make_an_image(loop: Loop, prompt: str, options: dict[str, Any]) -> None:
    async def make() -> Any:
        task = await loop.client.generate_image(prompt, **{**options, "size": options.get("size") or "64x64"})
        return await task.wait(20)

    assert loop.run(make()).ok


@settings(max_examples=3, deadline=None)
@given(
    duration=st.none() | st.integers(1, 2) | st.just(2.0),  # 2.0 goes out as 2
    fps=st.none() | st.integers(1, 12),
    seed=st.none() | st.integers(0, 2**31 - 1),
)
def test_right_video_arguments_make_a_video(
    loop: Loop, duration: int | float | None, fps: int | None, seed: int | None
) -> None:
    async def make() -> Any:
        task = await loop.client.generate_video("waves", size="64x64", duration=duration or 1, fps=fps or 6, seed=seed)
        return await task.wait(30)

    assert loop.run(make()).ok


def test_the_blocking_helper_with_right_arguments_makes_an_image(conduit: LocalConduit) -> None:
    result = conduit_widget.generate_image(
        "a fox", base_url=conduit.base_url, api_key=conduit.api_key, size="64x64", timeout=30
    )
    assert result.ok


# -- task(), on(), Task.wait(), Task.on_update() --------------------------------------------------


@FAST
@given(
    task_id=st.one_of(
        st.none(), st.integers(), st.sampled_from(["", "   ", "\n"]), st.lists(st.text(max_size=2), max_size=1)
    ),
    kind=st.sampled_from(["image", "video"]),
)
def test_a_wrong_task_id_is_named(task_id: Any, kind: str) -> None:
    with pytest.raises(ConduitError) as info:
        never_started().task(task_id, kind)  # type: ignore[arg-type]
    assert_names(info.value, "task_id")


@FAST
@given(kind=bad_choice(("image", "video")))
def test_a_wrong_task_kind_is_named(kind: Any) -> None:
    with pytest.raises(ConduitError) as info:
        never_started().task("a-task", kind)
    assert_names(info.value, "kind")


@settings(max_examples=10, deadline=None)
@given(task_id=st.text(min_size=1, max_size=30).filter(str.strip))
def test_any_task_id_is_followed_and_one_the_server_does_not_know_ends_failed(loop: Loop, task_id: str) -> None:
    async def follow() -> Any:
        return await loop.client.task(task_id).wait(10)

    result = loop.run(follow())
    assert result.status == "failed" and "not found" in (result.error or "").lower()


@settings(max_examples=100, deadline=None)
@given(task_id=st.text(min_size=1, max_size=30), kind=st.sampled_from(["image", "video"]))
def test_a_task_id_is_one_path_segment_whatever_it_holds(task_id: str, kind: str) -> None:
    """Task ids go into URL paths: "a/b", "..", "?x=1" or "#" must not change which route is called."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"task_id": task_id, "status": "processing"})

    async def read() -> None:
        rest = RestClient(NOWHERE, Secret("condt_" + "k" * 20), transport=httpx.MockTransport(answer))
        try:
            await rest.status(kind, task_id)  # type: ignore[arg-type]
            await rest.cancel(kind, task_id)  # type: ignore[arg-type]
        finally:
            await rest.aclose()

    asyncio.run(read())
    templates = [IMAGE_STATUS, IMAGE_CANCEL] if kind == "image" else [VIDEO_STATUS, VIDEO_CANCEL]
    for request, template in zip(seen, templates, strict=True):
        prefix, suffix = template.split("{task_id}")
        raw = request.url.raw_path.decode()
        assert raw.startswith(prefix) and raw.endswith(suffix), raw
        segment = raw[len(prefix) : len(raw) - len(suffix)]
        assert "/" not in segment and unquote(segment) == task_id, raw
        assert not request.url.query, raw


@FAST
@given(
    event=st.one_of(
        st.text(max_size=12).filter(lambda e: e not in EVENTS),
        st.sampled_from(["Progress", "completed ", "on_progress", "ImageGenerationProgress"]),
        not_numbers,
        st.lists(st.sampled_from(sorted(EVENTS)), min_size=1, max_size=2),
    )
)
def test_an_unknown_event_name_is_named(event: Any) -> None:
    with pytest.raises(ConduitError) as info:
        never_started().on(event, print)
    assert isinstance(info.value, ConfigurationError) and "unknown event" in str(info.value)


@FAST
@given(event=st.sampled_from(sorted(EVENTS)), callback=not_numbers | st.integers())
def test_a_callback_that_is_not_a_function_is_named(event: str, callback: Any) -> None:
    with pytest.raises(ConduitError) as info:
        never_started().on(event, callback)
    assert_names(info.value, "callback")


@FAST
@given(event=st.sampled_from(sorted(EVENTS)))
def test_right_event_names_and_callbacks_are_taken(event: str) -> None:
    async def handler(value: Any) -> None:
        return None

    client = never_started()
    for callback in (print, handler, lambda value: None):
        stop = client.on(event, callback)
        stop()


@FAST
@given(timeout=bad_seconds(optional=True, zero=True), cancel_on_timeout=st.booleans())
def test_a_wrong_wait_timeout_is_named(timeout: Any, cancel_on_timeout: bool) -> None:
    task = loose_task()
    with pytest.raises(ConduitError) as info:
        asyncio.run(task.wait(timeout, cancel_on_timeout=cancel_on_timeout))
    assert_names(info.value, "timeout")


@FAST
@given(timeout=st.floats(0, 0.01) | st.integers(0, 0))
def test_a_right_wait_timeout_waits_and_then_says_which_task(timeout: float) -> None:
    task = loose_task()
    with pytest.raises(DeadlineExceededError) as info:
        asyncio.run(task.wait(timeout))
    assert not isinstance(info.value, ConfigurationError)
    assert "a-task" in str(info.value)


@FAST
@given(callback=not_numbers | st.integers())
def test_a_task_listener_that_is_not_a_function_is_named(callback: Any) -> None:
    with pytest.raises(ConduitError) as info:
        loose_task().on_update(callback)
    assert_names(info.value, "callback")
