"""``conduit-widget``: generate an image or a video, run the local Conduit, or the demo (it plus JupyterLab).

Exit codes, as grep's: 0 the result was saved, 1 the task ended without one (failed, cancelled, timed out: the
server did its job and said no), 2 an error (a bad argument, no server, a refused request, a file that cannot be
written), each said in one line on stderr; 130 after Ctrl+C. Every string a server sent passes ``for_terminal``
before it is printed: the terminal gets no control sequence and no key from it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from conduit_widget._version import __version__
from conduit_widget.client.redaction import remember
from conduit_widget.protocol import VIDEO_SECONDS, Kind
from conduit_widget.saving import checked_destination, write_result
from conduit_widget.server.profiles import PROFILES
from conduit_widget.terminal import for_terminal

if TYPE_CHECKING:
    from rich.console import Console

    from conduit_widget.client import ConduitClient, Task


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _video_seconds(text: str) -> int:
    low, high = VIDEO_SECONDS
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds from {low} to {high}, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be from {low} to {high} seconds, got {text}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _size(text: str) -> str:
    from conduit_widget.client import inputs

    if not inputs.is_size(text):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1024x1024, got {text!r}")
    return text


class _Parser(argparse.ArgumentParser):
    """argparse, whose mistakes are one line (its own print the usage first) like every other failure here."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {for_terminal(message)} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


# What --help says: plain words (the module's docstring is reST for the code's readers, and names its internals).
_DESCRIPTION = """\
Generate an image or a video with a live progress bar, run the local Conduit (a simulator of Conduit's API, for
trying things without a gateway), or the demo: the local Conduit and JupyterLab on the quickstart notebook.

Exit codes: 0 saved, 1 the task ended without a result (failed, cancelled, timed out), 2 an error (said in one
line), 130 interrupted."""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="conduit-widget", description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"conduit-widget {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser(
        "generate",
        help="generate an image (or a video) with a live progress bar, and save it",
        description="Uses $CONDUIT_BASE_URL and $CONDUIT_API_KEY; with neither set, a local Conduit in this process.",
        epilog="Exit codes: 0 saved, 1 the task ended without a result (failed, cancelled, timed out), 2 an error "
        "(said in one line), 130 interrupted.",
    )
    generate.add_argument("prompt", help="what to generate")
    generate.add_argument("--video", action="store_true", help="generate a video instead of an image")
    generate.add_argument("--model", help="model name (default: $CONDUIT_IMAGE_MODEL / $CONDUIT_VIDEO_MODEL)")
    generate.add_argument(
        "--out", metavar="FILE", help="where to save (a folder, existing or ending in /: into it; default: here)"
    )
    generate.add_argument("--size", type=_size, metavar="WxH", help="e.g. 1024x1024")
    generate.add_argument("--n", type=_positive_int, help="number of images (images only; default 1)")
    generate.add_argument("--duration", type=_video_seconds, metavar="S", help="video length in whole seconds, 1 to 60")
    generate.add_argument("--seed", type=_seed, metavar="N", help="seed, for a repeatable result")
    generate.add_argument(
        "--timeout", type=_positive_float, metavar="S", help="cancel the task if not done after S seconds"
    )

    serve = commands.add_parser(
        "serve",
        help="run the local Conduit-compatible server",
        description="Runs the local Conduit, a simulator of Conduit's image and video API (no real generation, no "
        "cost), until Ctrl+C. It prints the two export lines that point the widget and `generate` at it.",
    )
    _server_options(serve)
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request (keys redacted)")

    demo = commands.add_parser(
        "demo",
        help="run the local Conduit and JupyterLab on the quickstart notebook",
        description="Starts the local Conduit and JupyterLab (pip install 'conduit-widget[local,demo]') on the "
        "quickstart notebook, a copy of it you can edit, and stops both on Ctrl+C.",
    )
    demo.add_argument(
        "--notebook", help="a notebook of yours to open instead, inside this folder (JupyterLab serves from here)"
    )
    demo.add_argument(
        "--lab-port",
        type=int,
        default=8888,
        help="JupyterLab's port (default 8888; another free one if taken, or if 0)",
    )
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser (headless machines)")
    _server_options(demo, default_port=0)
    return parser


def _server_options(parser: argparse.ArgumentParser, default_port: int = 5000) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=default_port, help=f"port (default {default_port}; 0 picks one)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("CONDUIT_API_KEY"),
        help="virtual key clients must send (default: $CONDUIT_API_KEY, else a new random condt_ key)",
    )
    parser.add_argument("--speed", type=_positive_float, default=1.0, help="divide every delay by this (default 1)")
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        default="default",
        help="which real Conduit to imitate, strictly (docs/compatibility.md): the default takes conduit-2025.08's "
        "requests and sends both its events and those of Conduit's JavaScript client docs",
    )
    parser.add_argument("--data-dir", type=Path, help="keep tasks and media here across restarts (default: temporary)")
    parser.add_argument("--rate-limit", type=int, metavar="N", help="allow N create requests a minute per key")


def _server_option_names() -> list[str]:
    """Every option `serve` takes (as `args`' names): the demo passes them all on, those added later too."""
    options = argparse.ArgumentParser(add_help=False)
    _server_options(options)
    return list(vars(options.parse_args([])))


def main(argv: Sequence[str] | None = None) -> int:
    if key := os.environ.get("CONDUIT_API_KEY", "").strip():
        remember(key)  # the key the client will send: whatever a server echoes of it, nothing printed shows it
    args = _parser().parse_args(argv)
    from conduit_widget.client import ConduitError

    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "serve":
            return _serve(args)
        from conduit_widget.demo import run_demo

        return run_demo(args, _server_option_names())
    except KeyboardInterrupt:  # Ctrl+C outside a task (a task's own is handled where it runs)
        print("conduit-widget: interrupted", file=sys.stderr)
        return 130
    except ConduitError as exc:  # a bad key, a refused request, no answer
        return _fail(exc.message)
    except (ValueError, OSError) as exc:  # bad settings, a busy port, a file that cannot be written
        return _fail(str(exc))
    except Exception as exc:  # a fault nobody foresaw is still one line, never a traceback
        return _fail(f"unexpected {type(exc).__name__}: {exc}")


def _fail(text: str) -> int:
    print(f"conduit-widget: error: {for_terminal(text)}", file=sys.stderr, flush=True)
    return 2


class _TerminalLog(logging.Formatter):
    """Log records (the client's, the libraries') as one cleaned line each: a record may quote the server."""

    def format(self, record: logging.LogRecord) -> str:
        return f"conduit-widget: {record.levelname.lower()}: {for_terminal(record.getMessage())}"


def _terminal_diagnostics() -> None:
    """Warnings and log records reach the terminal cleaned, one line each, like everything else `generate` prints."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalLog())
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        print(f"conduit-widget: warning: {for_terminal(message)}", file=sys.stderr, flush=True)

    warnings.showwarning = show


def _generate(args: argparse.Namespace) -> int:
    try:
        from rich.console import Console
    except ImportError:  # the `cli` extra, as httpx's command line is: the widgets do not need its 4 MiB
        return _fail("generate draws its progress with rich: pip install 'conduit-widget[cli]'")
    stderr = Console(stderr=True, highlight=False)
    if args.video and args.n is not None:
        return _fail("--n applies to images only; a video task makes one video")
    if not args.video and args.duration is not None:
        return _fail("--duration applies to videos only; add --video")
    checked_destination(args.out)  # before anything is spent: a generation may be paid for
    _terminal_diagnostics()
    return asyncio.run(_generate_and_save(args, stderr))


def _say(console: Console, text: str, style: str) -> None:
    """One line on `console`, cleaned: `text` holds a server's words (a task id, a message, a URL)."""
    console.print(for_terminal(text), style=style, markup=False, highlight=False, soft_wrap=True)


async def _generate_and_save(args: argparse.Namespace, stderr: Console) -> int:
    from conduit_widget.client import ConduitClient
    from conduit_widget.progress import TaskProgress

    async with ConduitClient() as client:
        await _check_model(client, "video" if args.video else "image", args.model)  # before anything is spent
        if args.video:
            task = await client.generate_video(
                args.prompt, model=args.model, size=args.size, seed=args.seed, duration=args.duration
            )
        else:
            task = await client.generate_image(
                args.prompt, model=args.model, size=args.size, seed=args.seed, n=args.n or 1
            )
        try:
            async with asyncio.timeout(args.timeout):
                with TaskProgress(stderr, task.kind) as shown:
                    async for update in task:
                        if update.message is not None:  # the one server text the bar shows
                            update = update._replace(message=for_terminal(update.message))
                        shown.update(update)
        except TimeoutError:
            if (await task.cancel()).status == "cancelled":  # else it ended meanwhile: save or report that
                _say(stderr, f"Not done after {args.timeout:g} s: cancelled task {task.id}.", "red")
                return 1
        except asyncio.CancelledError:  # Ctrl+C: asyncio.run cancels this coroutine
            if (this := asyncio.current_task()) is not None:
                this.uncancel()  # handled: later timeouts (in task.cancel) must work as usual
            await task.cancel()
            _say(stderr, f"Interrupted: cancelled task {task.id} on the server.", "yellow")
            return 130
        return await _save(client, task, args, stderr)


async def _check_model(client: ConduitClient, kind: Kind, model: str | None) -> None:
    """Refuse a model the server does not offer for `kind` before a task is created (and paid for), where model
    discovery says what each model makes. A plain model list does not say it, and may leave models out that a
    gateway takes: a gateway without discovery, or whose discovery cannot be read, is not held back."""
    if model is None or model.startswith("test-"):  # the local Conduit's failure-injection models work unlisted
        return
    from conduit_widget.client import ConduitError
    from conduit_widget.client.model_kinds import ids_making

    try:
        discovered = await client.rest.discovered_models()
    except ConduitError:
        return
    offered = ids_making(kind, discovered or [], discovered=True)
    if offered and model not in offered:
        article = "an" if kind == "image" else "a"
        raise ValueError(f"{model!r} is not {article} {kind} model here; it offers: {', '.join(offered)}")


_ENDINGS = {"failed": "failed", "cancelled": "was cancelled", "timedout": "timed out on the server"}


async def _save(client: ConduitClient, task: Task, args: argparse.Namespace, stderr: Console) -> int:
    from conduit_widget.client import ConduitError

    result = task.result
    assert result is not None
    if not result.ok or not result.urls:
        ending = _ENDINGS.get(result.status, "completed but named no media")
        why = f": {result.error}" if result.error else ""
        _say(stderr, f"The {task.kind} task {task.id} {ending}{why}", "red")
        return 1
    try:
        data = [await client.download(url) for url in result.urls]
        saved = write_result(args.out, args.prompt, result, data)
    except (ConduitError, OSError) as exc:
        # The generation is done (and maybe paid for): say where its media are, so that it is not lost.
        why = exc.message if isinstance(exc, ConduitError) else str(exc)
        _say(stderr, f"The {task.kind} task {task.id} completed, but its media were not saved: {why}", "red")
        for url in result.urls:
            _say(stderr, f"  {url}", "")
        return 2
    for path in saved:
        print(for_terminal(f"Saved {path}"), flush=True)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from conduit_widget.client import local_conduit

    LocalConduit = local_conduit.server_class(local_conduit.NEEDS_EXTRA)  # without the `local` extra: one line, exit 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(asctime)s %(message)s")
    if not args.verbose:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    server = LocalConduit(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        speed=args.speed,
        profile=args.profile,
        data_dir=args.data_dir,
        rate_limit_per_minute=args.rate_limit,
    )

    async def run() -> None:
        async with server:
            print(f"Local Conduit {__version__} listening on {server.base_url}", flush=True)
            if args.host not in ("127.0.0.1", "localhost", "::1"):
                print(f"warning: bound to {args.host}: other machines can reach it", flush=True)
            if args.api_key is None:
                # Printed once, to the terminal that started the server; it is never logged.
                print(f"Virtual key: {server.api_key}", flush=True)
            print(f"  export CONDUIT_BASE_URL={server.base_url}", flush=True)
            if args.api_key is None:
                # Without it, following the lines above gives "No API key". This key was made up just now, for this
                # simulator only: no secret of the user's, so printing it is safe (a key they gave never is).
                print(
                    f"  export CONDUIT_API_KEY={server.api_key}  # this local simulator's key, not a secret", flush=True
                )
            else:
                print("  # CONDUIT_API_KEY: the key you gave it", flush=True)
            print("Press Ctrl+C to stop.", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
