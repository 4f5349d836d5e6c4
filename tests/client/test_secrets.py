"""The virtual key never shows: not in a repr, a log line, an exception, or any frame sent on a hub."""

from __future__ import annotations

import logging
import pickle

import pytest

from conduit_widget import AuthError, ConduitClient, NotFoundError
from conduit_widget.client.secret import Secret
from conduit_widget.server import LocalConduit


@pytest.mark.security("the key is in no repr, log line, exception or hub frame of the client")
async def test_the_key_is_in_no_repr_log_exception_or_hub_frame(caplog):
    caplog.set_level(logging.DEBUG)
    async with LocalConduit(speed=100) as server:
        key = server.api_key
        frames = server.record_hub_frames()
        texts: list[str] = []
        for hub_protocol in ("json", "messagepack"):
            async with ConduitClient(server.base_url, key, hub_protocol=hub_protocol) as client:
                image = await client.generate_image("secret keeping", size="64x64")
                video = await client.generate_video("secret keeping", size="64x64", duration=1)
                results = [await image.wait(10), await video.wait(20)]
                hang = await client.generate_image("cancel me", model="test-hang", size="64x64")
                await hang.cancel()
                with pytest.raises(NotFoundError) as missing:
                    await client.rest.status("image", "not-a-task")
                texts += [repr(client), repr(client.rest), repr(image), repr(video), *map(repr, results)]
                texts += [repr(link) for link in client._follower.links.values()]
                texts += [str(missing.value), repr(missing.value)]
        async with ConduitClient(server.base_url, "condt_someone_elses_key") as stranger:
            with pytest.raises(AuthError) as refused:
                await stranger.generate_image("x")
            texts += [str(refused.value), repr(stranger)]
    assert frames, "no hub frames were recorded: the check below would be empty"
    assert any(b"SubscribeToTask" in frame for frame in frames)
    assert not [frame for frame in frames if key.encode() in frame]
    assert not [text for text in texts if key in text]
    assert "condt_someone_elses_key" not in " ".join(texts)
    logged = [record.getMessage() for record in caplog.records]
    assert any("HTTP Request" in line for line in logged), "httpx logged nothing: the log check would be empty"
    assert not [line for line in logged if key in line]


@pytest.mark.security("the key is in no repr, log line, exception or hub frame of the client")
def test_a_secret_hides_itself_and_will_not_be_pickled():
    secret = Secret("condt_abcdefghijklmnop")
    assert "abcdefghijklmnop" not in repr(secret) + str(secret) + f"{secret}"
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert secret.reveal() == "condt_abcdefghijklmnop"


def test_configuration_mistakes_are_named_up_front(monkeypatch):
    from conduit_widget import ConfigurationError

    monkeypatch.delenv("CONDUIT_BASE_URL", raising=False)
    monkeypatch.delenv("CONDUIT_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="No API key"):
        ConduitClient("https://conduit.example.com")
    with pytest.raises(ConfigurationError, match="CONDUIT_BASE_URL"):
        ConduitClient(api_key="condt_abcdefghijk")
    with pytest.raises(ConfigurationError, match="http"):
        ConduitClient("conduit.example.com", "condt_abcdefghijk")
    with pytest.raises(ConfigurationError, match="transport"):
        ConduitClient(transport="carrier-pigeon")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="spaces"):
        ConduitClient("https://conduit.example.com", "condt_with space")


@pytest.mark.parametrize(
    "line",
    [
        "> Authorization: Bearer condt_abc123DEF_-x",
        "GET /hubs/image-generation?id=1&access_token=condt_abc123DEF_-x HTTP/1.1",
        "key is condt_abc123DEF_-x, see",
        "Authorization: bearer sk-live-123",
    ],
)
@pytest.mark.security("the key is in no repr, log line, exception or hub frame of the client")
def test_log_redaction_catches_every_way_a_key_is_written(line):
    from conduit_widget.client.redaction import redact

    cleaned = redact(line)
    assert "abc123DEF" not in cleaned
    assert "sk-live-123" not in cleaned
    assert "[redacted]" in cleaned


@pytest.mark.security("media on another host are fetched without the key")
async def test_media_on_another_host_are_fetched_without_the_key(conduit):
    """A gateway's media often live on a storage host: the key must not travel there."""
    import aiohttp.web

    seen: list[str | None] = []

    async def media(request: aiohttp.web.Request) -> aiohttp.web.Response:
        seen.append(request.headers.get("Authorization"))
        return aiohttp.web.Response(body=b"\x89PNG fake", content_type="image/png")

    app = aiohttp.web.Application()
    app.router.add_get("/m.png", media)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        async with ConduitClient(conduit.base_url, conduit.api_key) as client:
            assert await client.rest.download(f"http://127.0.0.1:{port}/m.png") == b"\x89PNG fake"
    finally:
        await runner.cleanup()
    assert seen == [None]
