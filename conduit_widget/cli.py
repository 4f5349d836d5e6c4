"""``conduit-widget``: generate an image or a video, run the local Conduit, or the demo (it plus JupyterLab)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conduit_widget._version import __version__
from conduit_widget.protocol import VIDEO_SECONDS
from conduit_widget.saving import write_result
from conduit_widget.server.profiles import PROFILES

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conduit-widget", description=__doc__)
    parser.add_argument("--version", action="version", version=f"conduit-widget {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser(
        "generate",
        help="generate an image (or a video) with a live progress bar, and save it",
        description="Uses $CONDUIT_BASE_URL and $CONDUIT_API_KEY; with neither set, a local Conduit in this process.",
    )
    generate.add_argument("prompt", help="what to generate")
    generate.add_argument("--video", action="store_true", help="generate a video instead of an image")
    generate.add_argument("--model", help="model name (default: $CONDUIT_IMAGE_MODEL / $CONDUIT_VIDEO_MODEL)")
    generate.add_argument(
        "--out", metavar="FILE", type=Path, help="where to save (an existing folder: into it; default: here)"
    )
    generate.add_argument("--size", type=_size, metavar="WxH", help="e.g. 1024x1024")
    generate.add_argument("--n", type=_positive_int, help="number of images (images only; default 1)")
    generate.add_argument("--duration", type=_video_seconds, metavar="S", help="video length in whole seconds, 1 to 60")
    generate.add_argument("--seed", type=_seed, metavar="N", help="seed, for a repeatable result")
    generate.add_argument(
        "--timeout", type=_positive_float, metavar="S", help="cancel the task if not done after S seconds"
    )

    serve = commands.add_parser("serve", help="run the local Conduit-compatible server")
    _server_options(serve)
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request (keys redacted)")

    demo = commands.add_parser("demo", help="run the local Conduit and JupyterLab on the quickstart notebook")
    demo.add_argument("--notebook", default="notebooks/quickstart.ipynb", help="notebook to open")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "serve":
            return _serve(args)
        from conduit_widget.demo import run_demo

        return run_demo(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, OSError) as exc:  # bad settings or a busy port: say so, without a traceback
        print(f"conduit-widget: error: {exc}", file=sys.stderr)
        return 2


def _generate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from conduit_widget.client import ConduitError, ConfigurationError, ValidationError

    stderr = Console(stderr=True, highlight=False)
    mistake = None
    if args.video and args.n is not None:
        mistake = "--n applies to images only; a video task makes one video"
    elif not args.video and args.duration is not None:
        mistake = "--duration applies to videos only; add --video"
    if mistake:
        stderr.print(f"conduit-widget generate: error: {mistake}", style="red", soft_wrap=True)
        return 2
    try:
        return asyncio.run(_generate_and_save(args, stderr))
    except ConduitError as exc:  # a bad key, a refused request, no answer: one line, never a traceback
        stderr.print(f"conduit-widget: error: {exc.message}", style="red", markup=False, soft_wrap=True)
        return 2 if isinstance(exc, ConfigurationError | ValidationError) else 1


async def _generate_and_save(args: argparse.Namespace, stderr: Console) -> int:
    from conduit_widget.client import ConduitClient
    from conduit_widget.progress import TaskProgress

    async with ConduitClient() as client:
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
                        shown.update(update)
        except TimeoutError:
            if (await task.cancel()).status == "cancelled":  # else it ended meanwhile: save or report that
                stderr.print(f"Not done after {args.timeout:g} s: cancelled task {task.id}.", style="red", markup=False)
                return 1
        except asyncio.CancelledError:  # Ctrl+C: asyncio.run cancels this coroutine
            if (this := asyncio.current_task()) is not None:
                this.uncancel()  # handled: later timeouts (in task.cancel) must work as usual
            await task.cancel()
            stderr.print(f"Interrupted: cancelled task {task.id} on the server.", style="yellow", markup=False)
            return 130
        return await _save(client, task, args, stderr)


_ENDINGS = {"failed": "failed", "cancelled": "was cancelled", "timedout": "timed out on the server"}


async def _save(client: ConduitClient, task: Task, args: argparse.Namespace, stderr: Console) -> int:
    result = task.result
    assert result is not None
    if not result.ok or not result.urls:
        ending = _ENDINGS.get(result.status, "completed but named no media")
        why = " ".join(f": {result.error}".split()) if result.error else ""  # the server's words, on one line
        stderr.print(f"The {task.kind} task {task.id} {ending}{why}", style="red", markup=False, soft_wrap=True)
        return 1
    data = [await client.download(url) for url in result.urls]
    for path in write_result(args.out, args.prompt, result, data):
        print(f"Saved {path}", flush=True)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from conduit_widget.server import LocalConduit

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
