"""The client and the widget against a hostile or broken Conduit (`tests.hostile`): each misbehaviour, its outcome.

Nothing here is mocked: the fake server answers over real sockets, the widget runs its real client, and what the
process tries to reach is seen by an audit hook on its sockets.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conduit_widget import ConduitClient, GenerationWidget
from conduit_widget.client import ConduitError, DeadlineExceededError
from conduit_widget.client.errors import HubError
from conduit_widget.client.models import TaskEvent
from conduit_widget.client.redaction import redact
from conduit_widget.client.secret import Secret
from tests.hostile import KEY, HostileConduit, Hostility, hostile_conduit

pytestmark = pytest.mark.timeout(60)

# -- what the process tries to reach -------------------------------------------------------------------------------

_reached: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _reached is not None and event in ("socket.connect", "socket.getaddrinfo"):
        target = args[1] if event == "socket.connect" else args
        _reached.append(f"{event} {target!r}")


sys.addaudithook(_audit)  # for good (hooks cannot be removed): it records only while a test asks it to


@pytest.fixture
def reached() -> Iterator[list[str]]:
    """Every address this process connects to, or looks up, during the test."""
    global _reached
    _reached = []
    try:
        yield _reached
    finally:
        _reached = None


def client_for(server: HostileConduit, **options: Any) -> ConduitClient:
    options = {"transport": "polling", "poll_interval": 0.05, "connect_timeout": 0.5, **options}
    return ConduitClient(server.base_url, KEY, **options)


def everything_shown(widget: GenerationWidget) -> str:
    """All a widget shows or keeps: its state for the browser, its repr, its static copy."""
    state = widget.get_state()
    texts = [repr(widget), repr({k: v for k, v in state.items() if not isinstance(v, bytes | list)})]
    texts += [repr(state.get(k)) for k in ("image_urls", "media_types")]
    texts.append(repr(widget.static_copy))
    return "\n".join(texts)


# -- the key, echoed back -------------------------------------------------------------------------------------------

SECURITY_KEY = (
    "the key is in no trait, static copy, log record, exception or CLI output, even when the server echoes it"
)


@pytest.mark.security(SECURITY_KEY)
@pytest.mark.parametrize(
    "hostility",
    [
        Hostility(echo_key=True, fail=True),
        Hostility(echo_key=True, media="error"),
        Hostility(echo_key=True, hub="refusing"),
    ],
    ids=["in a task failure", "in a media error", "in a hub refusal"],
)
async def test_a_key_the_server_echoes_reaches_nothing(hostility: Hostility, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger of the process, at every level
    errors: list[str] = []
    with hostile_conduit(hostility) as server:
        transport = "auto" if hostility.hub != "absent" else "polling"
        client = client_for(server, transport=transport)
        client.on("error", lambda error: errors.append(str(error)))
        widget = GenerationWidget("a fox", client=client, embed_media=True)
        widget.generate()
        try:
            await widget.wait(20)
        except ConduitError as exc:
            errors.append(str(exc))
        shown = everything_shown(widget)
        widget.close()
        await client.aclose()
    assert any("for key" in line for line in [*server.requests, shown, *errors, caplog.text]) or hostility.hub
    said = "\n".join([shown, *errors, caplog.text, *(r.getMessage() for r in caplog.records)])
    assert KEY not in said
    if hostility.fail:
        assert "the model crashed (for key [redacted])" in widget.error
    if hostility.media == "error":
        assert "storage is down (for key [redacted])" in widget.error


@pytest.mark.security(SECURITY_KEY)
@settings(max_examples=300, deadline=None)
@given(
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    spelling=st.sampled_from(["as is", "url-quoted", "bearer"]),
)
def test_a_key_anywhere_in_any_server_text_is_blanked_out(before: str, after: str, spelling: str) -> None:
    key = "sk-live-" + "q9/Z+x" * 4  # not shaped like a virtual key: found because it is the key in use
    Secret(key)
    echoed = {"as is": key, "url-quoted": quote(key, safe=""), "bearer": "Bearer " + key}[spelling]
    text = before + echoed + after
    event = TaskEvent("task_1", "hub", status="failed", error=text, message=text, image_urls=(text,))
    cleaned = event.without_keys()
    assert key not in repr(cleaned) and quote(key, safe="") not in repr(cleaned)
    assert key not in str(HubError(text)) and key not in redact(text)
    record = logging.getLogger("any.library.at.all").makeRecord("x", logging.INFO, "f", 1, "%s", (text,), None)
    assert key not in record.getMessage()


@pytest.mark.security("terminal output carries no control sequences or key from the server")
async def test_the_static_copy_keeps_the_servers_words_without_its_control_sequences() -> None:
    message = "\x1b]52;c;ZXZpbA==\x07the model \x1b[31mcrashed\x9b0m\u202eevil"
    with hostile_conduit(Hostility(fail=True, fail_message=message)) as server:
        async with client_for(server) as client:
            widget = GenerationWidget("a fox", client=client)
            widget.generate()
            assert (await widget.wait(20)).status == "failed"
            widget.close()
    copy = widget.static_copy
    assert copy is not None and "the model crashed" in copy["text/plain"], copy
    assert not any(c in copy["text/plain"] for c in "\x1b\x07\x9b\u202e")


# -- media: endless, enormous, or from where the kernel may not go ---------------------------------------------------


def _memory_mib(field: str) -> float:
    """VmRSS (now) or VmHWM (the peak) of this process, in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_rss_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # Linux: the peak RSS (VmHWM) starts again from the current RSS


@pytest.mark.security("an endless or huge media response is cut off at the size cap")
async def test_endless_media_cost_less_than_twice_the_cap_and_say_so() -> None:
    from conduit_widget.embedding import MAX_EMBED_BYTES

    with hostile_conduit(Hostility(media="endless")) as server:
        async with client_for(server) as client:
            _reset_rss_peak()
            before = _memory_mib("VmRSS")
            widget = GenerationWidget("a fox", client=client, embed_media=True)
            widget.generate()
            await widget.wait(30)
            grown = _memory_mib("VmHWM") - before
            widget.close()
    cap = MAX_EMBED_BYTES / 2**20
    assert grown < 2 * cap, f"the kernel grew {grown:.0f} MiB for a {cap:.0f} MiB cap"
    assert "more than the 64 MiB allowed" in widget.error
    assert widget.status == "completed" and not widget.media


@pytest.mark.security("a decompression bomb or over-deep JSON from the server is a clear error")
@pytest.mark.parametrize("embed", [True, False])
async def test_a_decompression_bomb_is_named_and_the_static_copy_still_written(embed: bool) -> None:
    with hostile_conduit(Hostility(media="bomb")) as server:
        async with client_for(server) as client:
            widget = GenerationWidget("a fox", client=client, embed_media=embed)
            widget.generate()
            await widget.wait(30)
            widget.close()
    assert not widget.media
    copy = widget.static_copy
    assert copy is not None and server.base_url + "/media/" in copy["text/plain"]
    assert "10000 x 10000 pixels" in (widget.error if embed else copy["text/plain"])
    assert "image/jpeg" not in copy


FORBIDDEN = [
    "https://169.254.169.254/latest/meta-data/iam.png",
    "https://2852039166/latest/meta-data.png",
    "https://[fd00:ec2::254]/latest/meta-data.png",
    "https://metadata.google.internal/computeMetadata/v1/x.png",
    "https://media.example/a\t.png",  # a tab: the browser would drop it, httpx would refuse the URL
]


@pytest.mark.security("link-local, metadata and credentialed media URLs are never requested")
@pytest.mark.parametrize("url", [*FORBIDDEN, "credentials", "redirect"])
async def test_a_result_url_the_policy_refuses_is_never_requested(url: str, reached: list[str]) -> None:
    hostility = Hostility()
    with hostile_conduit(hostility) as server:
        port = server.base_url.rsplit(":", 1)[1]
        if url == "credentials":
            hostility.urls = [f"http://user:secret@127.0.0.1:{port}/media/x.png"]
        elif url == "redirect":
            hostility.redirect_to = "http://169.254.169.254/latest/meta-data/"
        else:
            hostility.urls = [url]
        async with client_for(server) as client:
            widget = GenerationWidget("a fox", client=client, embed_media=True)
            widget.generate()
            await widget.wait(30)
            state = widget.get_state()
            widget.close()
    # Only the fake Conduit was reached, and on it never the credentialed or redirected media.
    assert all(f"127.0.0.1', {port}" in r or "'127.0.0.1'" in r for r in reached), reached
    assert not any("169.254" in r or "metadata" in r or "fd00" in r for r in reached), reached
    fetched = [r for r in server.requests if r.startswith("GET /media/")]
    assert fetched == ([f"GET /media/{server.created[0]}.png"] if url == "redirect" else [])
    assert state["image_url"] == "" and state["image_urls"] == [] and not state["media"]
    assert (widget.error and "redirect" not in widget.error.lower()) or url == "redirect"


# -- answers nobody can read, and answers that come late or wrong -----------------------------------------------------


@pytest.mark.security("a decompression bomb or over-deep JSON from the server is a clear error")
async def test_a_create_answer_nested_past_any_parser_is_a_clear_failure() -> None:
    with hostile_conduit(Hostility(deep_json="create")) as server:
        async with client_for(server) as client:
            widget = GenerationWidget("a fox", client=client)
            await widget.generate()  # type: ignore[misc]
            widget.close()
    assert widget.status == "failed" and widget.message == ""
    assert widget.error == "creating an image task: the server's JSON answer nests too deeply to read"


@pytest.mark.security("no task is lost or doubled by a transient 404 or a second generate")
@pytest.mark.parametrize("reads", [1, 5])
async def test_a_single_404_is_asked_again_and_a_lasting_one_believed(reads: int) -> None:
    with hostile_conduit(Hostility(not_found_reads=reads)) as server:
        async with client_for(server) as client:
            task = await client.generate_image("a fox")
            result = await asyncio.wait_for(task.wait(), 20)
    if reads == 1:
        assert result.status == "completed" and result.image_urls
    else:
        assert result.status == "failed" and "not found" in (result.error or "")
        assert sum(r.startswith("GET /v1/images/generations/") for r in server.requests) == 2


@pytest.mark.security("no task is lost or doubled by a transient 404 or a second generate")
async def test_a_second_generate_while_the_first_is_being_created_cancels_the_first_on_the_server() -> None:
    with hostile_conduit(Hostility(create_delay=0.5)) as server:
        async with client_for(server) as client:
            widget = GenerationWidget("a fox", client=client)
            widget.generate()
            await asyncio.sleep(0.2)  # the first create is on the server, its answer not yet back
            second = widget.generate()
            await second  # type: ignore[misc]
            for _ in range(100):
                if f"DELETE /v1/images/generations/{server.created[0]}" in server.requests:
                    break
                await asyncio.sleep(0.05)
            await widget.wait(20)
            widget.close()
    first, last = server.created
    assert f"DELETE /v1/images/generations/{first}" in server.requests, server.requests
    assert f"DELETE /v1/images/generations/{last}" not in server.requests
    assert widget.task is not None and widget.task.id == last and widget.status == "completed"


async def test_answers_that_stall_before_their_headers_end_in_a_clear_error_not_a_hang() -> None:
    with hostile_conduit(Hostility(header_delay=5)) as server:
        async with client_for(server, timeout=0.5, total_timeout=2.0) as client:
            with pytest.raises(DeadlineExceededError) as caught:
                await client.generate_image("a fox")
    assert "\n" not in str(caught.value) and "creating an image task" in str(caught.value)


async def test_a_hub_that_accepts_and_never_speaks_does_not_stop_the_task() -> None:
    with hostile_conduit(Hostility(hub="silent")) as server:
        async with client_for(server, transport="auto") as client:
            task = await client.generate_image("a fox")
            result = await asyncio.wait_for(task.wait(), 20)
    assert result.status == "completed"
    assert any(r.startswith("GET /hubs/image-generation") for r in server.requests)
