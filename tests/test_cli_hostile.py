"""`conduit-widget generate` against a hostile Conduit: what the server says reaches the terminal cleaned.

The server here is a few aiohttp routes in this module (tests/hostile.py will be the suite's general one): it
answers a create with a task, then tells of it in text full of terminal control sequences and the key the
CLI sent it. The CLI runs as a real process, piped, so every byte it writes is seen.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from PIL import Image

from conduit_widget.client.redaction import remember
from conduit_widget.terminal import for_terminal

REPO = Path(__file__).resolve().parents[1]
KEY = "condt_hostile0123456789abcdefKEY"
SHORT_KEY_TAIL = "0123456789abcdefKEY"  # what is left of the key if only its prefix were removed
# Clipboard write (OSC 52, BEL-ended), window title (OSC 0, ST-ended), clear screen, an 8-bit CSI, a bidi
# override, a DCS, a terminal reset, line breaks, and the key twice (bare, and split by a colour change).
HOSTILE = (
    "\x1b]52;c;cm0gLXJmIH4=\x07step\x1b]0;owned\x1b\\ \x1b[2J\x9b31mred\x1b[0m \u202eevil\u202c"
    f" \x1bPq#0\x1b\\ \x1bc\nsecond line\r\nkey {KEY} and Bearer {KEY[:12]}\x1b[0m{KEY[12:]}"
)


def _png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(picture, "PNG")
    return picture.getvalue()


PNG = _png()
SEQUENCE_BYTES = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def _no_control_and_no_key(output: bytes) -> None:
    # Bytes, not text: a decoder must not get the chance to hide an ESC, a C1 (as UTF-8) or a bidi override.
    found = SEQUENCE_BYTES.search(output)
    assert found is None, f"control character {found[0]!r} in {output!r}"
    assert SHORT_KEY_TAIL.encode() not in output
    assert b"owned" not in output and b"cm0gLXJmIH4=" not in output  # the sequences' contents went with them


Behaviour = Callable[[web.Request, dict[str, Any]], web.StreamResponse]


@asynccontextmanager
async def _serve(behaviour: Behaviour) -> AsyncIterator[str]:
    seen: dict[str, Any] = {"reads": 0}

    async def handle(request: web.Request) -> web.StreamResponse:
        return behaviour(request, seen)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)  # hub routes included: they get the 404 of no hub here
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _fails_with_hostile_text(request: web.Request, seen: dict[str, Any]) -> web.StreamResponse:
    """A task that makes progress with a hostile message, then fails with one; the key echoed in both."""
    echoed = f"{HOSTILE} (you sent {request.headers.get('Authorization', '')})"
    if request.method == "POST" and request.path.endswith("/async"):
        return web.json_response({"taskId": "task_0123abcd", "status": "pending"}, status=202)
    if request.path.endswith("/status"):
        seen["reads"] += 1
        if seen["reads"] == 1:
            return web.json_response(
                {"taskId": "task_0123abcd", "status": "processing", "progress": 40, "message": echoed}
            )
        return web.json_response({"taskId": "task_0123abcd", "status": "failed", "progress": 40, "error": echoed})
    return web.Response(status=404)


def _answers_a_picture(request: web.Request, seen: dict[str, Any]) -> web.StreamResponse:
    """A task that is done at once, with a real PNG."""
    base = f"{request.scheme}://{request.host}"
    if request.method == "POST" and request.path.endswith("/async"):
        return web.json_response({"taskId": "task_0123abcd", "status": "pending"}, status=202)
    if request.path.endswith("/status"):
        result = {"images": [{"url": f"{base}/media/picture.png"}]}
        return web.json_response({"taskId": "task_0123abcd", "status": "completed", "progress": 100, "result": result})
    if request.path == "/media/picture.png":
        return web.Response(body=PNG, content_type="image/png")
    return web.Response(status=404)


def _refuses_the_create(request: web.Request, seen: dict[str, Any]) -> web.StreamResponse:
    """A 400 whose error message is hostile and quotes the key: the client's ValidationError carries it."""
    if request.method == "POST":
        return web.json_response(
            {"error": {"message": f"{HOSTILE} {request.headers.get('Authorization')}"}}, status=400
        )
    return web.Response(status=404)


def _hostile_task_id(request: web.Request, seen: dict[str, Any]) -> web.StreamResponse:
    """A task id that is itself a control sequence and the key: the CLI names the task in its message."""
    task_id = f"\x1b]0;owned\x07{KEY}\x9b2J"
    if request.method == "POST" and request.path.endswith("/async"):
        return web.json_response({"taskId": task_id, "status": "pending"}, status=202)
    if "/status" in request.path:
        return web.json_response({"taskId": task_id, "status": "failed", "error": HOSTILE})
    return web.Response(status=404)


async def _start(base_url: str, tmp_path: Path, *args: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUIT_", "FORCE_COLOR", "TERM"))}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conduit_widget.cli",
        "generate",
        "a fox",
        *args,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO), "CONDUIT_BASE_URL": base_url, "CONDUIT_API_KEY": KEY},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _generate(base_url: str, tmp_path: Path, *args: str) -> tuple[int, bytes, bytes]:
    process = await _start(base_url, tmp_path, *args)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout, stderr


@pytest.mark.security("terminal output carries no control sequences or key from the server")
@pytest.mark.parametrize(
    ("behaviour", "error", "exit_code"),
    [
        (
            _fails_with_hostile_text,
            r"^The image task task_0123abcd failed: step red evil second line key \[redacted\]",
            1,
        ),
        (_refuses_the_create, r"^conduit-widget: error: .*step red evil second line", 2),
        (_hostile_task_id, r"^conduit-widget: error: the server's id for the new image task has the API key in it", 2),
    ],
    ids=["failure-and-progress-messages", "error-answer", "task-id"],
)
async def test_server_text_reaches_the_terminal_without_sequences_or_the_key(tmp_path, behaviour, error, exit_code):
    async with _serve(behaviour) as base_url:
        code, stdout, stderr = await _generate(base_url, tmp_path)
    _no_control_and_no_key(stdout + stderr)
    assert code == exit_code, stderr
    lines = stderr.decode().splitlines()
    errors = [line for line in lines if re.search(error, line)]
    assert len(errors) == 1, lines  # said once, on one line: the server's line breaks are spaces
    assert "Traceback" not in stderr.decode()
    assert stdout == b""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.security("terminal output carries no control sequences or key from the server")
async def test_the_progress_message_is_shown_cleaned(tmp_path):
    async with _serve(_fails_with_hostile_text) as base_url:
        _, _, stderr = await _generate(base_url, tmp_path)
    progress = [line for line in stderr.decode().splitlines() if line.startswith("image ")]
    assert any(re.match(r"image +40% step red evil second line key \[redacted\]", line) for line in progress), progress


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]52;c;aGk=\x07copied", "copied"),  # OSC 52 clipboard write, BEL-ended
        ("\x1b]0;title\x1b\\after", "after"),  # OSC 0 window title, ST-ended
        ("\x9d0;title\x9cafter", "after"),  # the same in 8-bit C1
        ("\x1b[2J\x1b[1;31mred\x1b[0m", "red"),  # clear screen, colours
        ("\x9b31mred", "red"),  # 8-bit CSI
        ("\x1bP1$r\x1b\\done", "done"),  # DCS
        ("\x1b(B\x1b#8\x1bcreset", "reset"),  # charset, alignment test, full reset
        ("cut \x1b]52;c;never ended", "cut"),  # an unterminated string swallows the rest, as a terminal would
        ("a\u202eb\u2066c\u200fd", "abcd"),  # bidi overrides, isolates and marks
        ("bell\x07 back\x08space\x7f nul\x00", "bell backspace nul"),
        ("two\nlines\r\n\tand a tab", "two lines and a tab"),
        ("key condt_ab\x1b[0mcd!", "key condt_[redacted]!"),  # split by a sequence, whole again before redaction
        ("a server's own words, unchanged", "a server's own words, unchanged"),
    ],
)
def test_for_terminal_removes_whole_sequences_then_redacts(text, shown):
    assert for_terminal(text) == shown


def test_for_terminal_replaces_the_given_secret_whatever_its_shape():
    remember("sk-live-123")  # what the CLI does with the key it was given
    assert for_terminal("echo: sk-live-123 ok") == "echo: [redacted] ok"


# -- every failure: one line on stderr, exit code 2 (130 after Ctrl+C) ------------------------------------------------


def _answers_500(request: web.Request, seen: dict[str, Any]) -> web.StreamResponse:
    return web.json_response({"error": {"message": "the database is on fire\n  at Conduit.Core.Db()"}}, status=500)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "big"], r"conduit-widget generate: error: argument --size: expected WIDTHxHEIGHT"),
        (["--bogus"], r"conduit-widget: error: unrecognized arguments: --bogus"),
        (["--out", "occupied/x.png"], r"conduit-widget: error: .*occupied"),  # a file where a folder must be
    ],
    ids=["bad-value", "unknown-option", "unwritable-out"],
)
async def test_a_user_mistake_is_one_line_and_exit_code_2(tmp_path, args, message):
    (tmp_path / "occupied").write_text("a file, not a folder")
    async with _serve(_answers_a_picture) as base_url:
        code, _, stderr = await _generate(base_url, tmp_path, *args)
    lines = stderr.decode().splitlines()
    assert code == 2, lines
    assert re.search(message, lines[-1]), lines
    assert [line for line in lines if not re.match(r"image +\d+% ", line)] == [lines[-1]]  # no usage, no traceback
    assert "Traceback" not in stderr.decode()


async def test_a_server_error_is_one_line_and_exit_code_2(tmp_path):
    async with _serve(_answers_500) as base_url:
        code, _, stderr = await _generate(base_url, tmp_path)
    assert code == 2
    (line,) = stderr.decode().splitlines()
    assert re.fullmatch(r"conduit-widget: error: .*500.*the database is on fire at Conduit\.Core\.Db\(\)", line), line


async def test_an_unreachable_server_is_one_line_and_exit_code_2(tmp_path):
    code, _, stderr = await _generate(f"http://127.0.0.1:{_free_port()}", tmp_path)
    assert code == 2
    (line,) = stderr.decode().splitlines()
    assert line.startswith("conduit-widget: error: "), line


async def test_ctrl_c_while_the_create_is_unanswered_is_one_line_and_exit_code_130(tmp_path):
    posted = asyncio.Event()

    async def hang(request: web.Request) -> web.StreamResponse:
        posted.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hang)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        process = await _start(f"http://127.0.0.1:{port}", tmp_path)
        await asyncio.wait_for(posted.wait(), 30)
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        await runner.cleanup()
    assert process.returncode == 130
    assert stderr.decode().splitlines() == ["conduit-widget: interrupted"]
