"""signalrcore (thread-based) as a reference client for benchmarks/throughput.py, run by the Python of its own
venv (see signalrcore_env.py): it only imports signalrcore and the standard library.

Usage: python signalrcore_client.py '{"url", "key", "protocol", "taskId", "count", "timeout"}'. Prints
{"ready": true} once subscribed, then {"count", "firstBatch", "seconds", "rate"} when `count` "burst" events
have arrived (or the timeout has passed), like benchmarks/node/official_client.mjs.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any

from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.protocol.json_hub_protocol import JsonHubProtocol
from signalrcore.protocol.messagepack_protocol import MessagePackHubProtocol


def main() -> int:
    config = json.loads(sys.argv[1])
    # The protocol is always given: left to choose, signalrcore 1.0.2 puts the *negotiate* version (0 here)
    # in the handshake as the protocol's version, which this local Conduit refuses (ASP.NET accepts it).
    hub_protocol = MessagePackHubProtocol() if config["protocol"] == "messagepack" else JsonHubProtocol()
    connection = (
        HubConnectionBuilder()
        .with_url(config["url"], options={"access_token_factory": lambda: config["key"]})
        .with_hub_protocol(hub_protocol)
        .configure_logging(logging.ERROR)
        .build()
    )
    opened, subscribed, done = threading.Event(), threading.Event(), threading.Event()
    tally = {"count": 0, "first": 0.0, "last": 0.0}
    expected = int(config["count"])

    def on_progress(arguments: list[Any]) -> None:
        message = arguments[0].get("message") if arguments and isinstance(arguments[0], dict) else None
        if not isinstance(message, str) or not message.startswith("burst"):
            return
        now = time.perf_counter()
        if not tally["count"]:
            tally["first"] = now
        tally["count"] += 1
        tally["last"] = now
        if tally["count"] >= expected:
            done.set()

    connection.on("ImageGenerationProgress", on_progress)
    connection.on_open(opened.set)
    connection.start()
    if not opened.wait(20):
        print(json.dumps({"error": "signalrcore did not connect within 20 s"}), flush=True)
        return 1
    connection.send("SubscribeToTask", [config["taskId"]], on_invocation=lambda _: subscribed.set())
    if not subscribed.wait(20):
        print(json.dumps({"error": "signalrcore's subscribe was not answered within 20 s"}), flush=True)
        return 1
    print(json.dumps({"ready": True}), flush=True)
    done.wait(float(config.get("timeout", 60)))
    seconds = tally["last"] - tally["first"]
    rate = (tally["count"] - 1) / seconds if seconds > 0 else 0.0
    print(json.dumps({"count": tally["count"], "firstBatch": 1, "seconds": seconds, "rate": rate}), flush=True)
    connection.stop()  # can take seconds (its threads wind down); the harness does not wait for it
    return 0


if __name__ == "__main__":
    sys.exit(main())
