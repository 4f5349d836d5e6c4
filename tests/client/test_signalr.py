"""pysignalr's internals that `conduit_widget.client.signalr` relies on, held to the pinned version (1.3).

`LinkClient` replaces the transport's frame handler and hands decoded messages to the transport's message handler,
empties the client's invocation headers, and reads the open socket; the link registers handlers and callbacks.
A pysignalr release that renames any of these fails here, by name, rather than as a silent loss of events.
"""

from __future__ import annotations

import inspect
from importlib.metadata import version

from packaging.version import Version
from pysignalr.client import SignalRClient
from pysignalr.messages import CloseMessage, CompletionMessage, InvocationMessage, PingMessage
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol
from pysignalr.transport.websocket import WebsocketTransport

from conduit_widget.client.signalr import JSONFrames, LinkClient, MessagepackFrames


def test_the_installed_pysignalr_is_a_version_the_adapter_was_written_for() -> None:
    assert Version("1.3.2") <= Version(version("pysignalr")) < Version("1.4")


def test_the_client_and_transport_have_what_link_client_uses() -> None:
    client = SignalRClient("ws://127.0.0.1:9/hub")
    assert isinstance(client._transport, WebsocketTransport)
    assert isinstance(client._headers, dict)
    assert isinstance(client._protocol, JSONProtocol)
    assert isinstance(client._invocation_handlers, dict)
    for name in ("on", "on_open", "on_close", "on_error", "send", "run"):
        assert callable(getattr(client, name)), name
    transport = client._transport
    assert list(inspect.signature(transport._on_raw_message).parameters) == ["raw_message"]
    assert list(inspect.signature(transport._on_message).parameters) == ["message"]
    # The open socket is kept as `_ws` (read by `LinkClient.socket` for the keepalive's pings).
    assert "self._ws = " in inspect.getsource(WebsocketTransport)


def test_link_client_takes_over_frames_and_drops_the_key_from_invocations() -> None:
    client = LinkClient("ws://127.0.0.1:9/hub", headers={"Authorization": "Bearer condt_x"}, on_events=print)
    assert client._headers == {}
    assert client._transport._on_raw_message.__qualname__.startswith("LinkClient.__init__")
    assert client.socket is None


def test_the_handshake_decodes_what_follows_it_with_our_reader() -> None:
    """pysignalr's handshake decodes the rest of its frame with the protocol's `decode`: ours, so a bad message
    sent with the handshake costs that message only."""
    assert "self.decode(" in inspect.getsource(JSONProtocol.decode_handshake)
    _, messages = JSONFrames().decode_handshake('{}\x1e{"type":1,"target":7}\x1e{"type":3,"invocationId":"1"}\x1e')
    assert [type(m) for m in messages] == [CompletionMessage]
    assert issubclass(MessagepackFrames, MessagepackProtocol)
    for message in (PingMessage(), CloseMessage(None, None), InvocationMessage(None, "t", [], None)):
        assert JSONFrames().encode(message)  # encoding stays pysignalr's
