"""A local Conduit with short connection limits, in a process of its own: ``python -m tests.server.limited_server
PORT KEY HEADERS_TIMEOUT PER_ADDRESS MAX_RENDERS SPEED``. It prints ``ready`` once it listens and serves until
killed. The slow-client tests measure this process alone (its RSS, its file descriptors), apart from pytest's."""

from __future__ import annotations

import sys
import threading

from conduit_widget.server import LocalConduit
from conduit_widget.server.config import ConnectionLimits


def main(argv: list[str]) -> None:
    port, key, headers_timeout, per_address, max_renders, speed = argv
    limits = ConnectionLimits(request_headers_timeout=float(headers_timeout), per_address=int(per_address))
    server = LocalConduit(port=int(port), api_key=key, speed=float(speed), limits=limits, max_renders=int(max_renders))
    with server:
        print("ready", flush=True)
        threading.Event().wait()  # until the test kills the process


if __name__ == "__main__":
    main(sys.argv[1:])
