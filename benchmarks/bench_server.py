"""A local Conduit with the benchmark routes (``benchmarks.bench_routes``), for a process of its own:

    python -m benchmarks.bench_server --port 0 --speed S --data-dir DIR    (the key comes from CONDUIT_API_KEY)

It prints ``listening on URL`` once it answers, and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

from benchmarks.bench_routes import bench_routes
from conduit_widget.server import LocalConduit


async def serve(args: argparse.Namespace) -> None:
    server = LocalConduit(
        port=args.port,
        api_key=os.environ["CONDUIT_API_KEY"],
        speed=args.speed,
        data_dir=args.data_dir,
        extensions=[bench_routes],
    )
    async with server:
        print(f"listening on {server.base_url}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--data-dir", type=Path)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
