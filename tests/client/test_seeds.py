"""A seed against each server: sent as given, and the client's rule of where it reaches the provider
(`client.seeds`) is the server's own (its profile), so a result never claims a seed the server dropped."""

from __future__ import annotations

import pytest

from conduit_widget.client import ConduitClient, ConfigurationError, seeds
from conduit_widget.server.profiles import get_profile


async def _picture(client: ConduitClient, seed: int) -> tuple[bytes, dict]:
    task = await client.generate_image("a lighthouse at dusk", size="64x64", seed=seed)
    assert task.request is not None and task.request["seed"] == seed  # sent to every server: none refuses it
    result = await task.wait(20)
    return await client.download(result.image_urls[0]), result.metadata


async def test_the_same_image_seed_draws_the_same_picture_exactly_where_the_client_says_it_reaches_the_provider(
    conduit,
):
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        (first, metadata), (again, _) = await _picture(client, 11), await _picture(client, 11)
        honoured = seeds.reaches_provider("image", client.rest.routes)
    assert honoured == get_profile(conduit.config.profile).image_seed_reaches_provider
    assert (first == again) == honoured
    use = seeds.seed_use("image", 11, metadata, client.rest.routes)
    if "seed" not in metadata:
        assert use == (11, "") if honoured else use == (None, seeds.NOT_PASSED_ON)


@pytest.mark.parametrize("seed", [-1, True, 2**31, "7"])
async def test_a_seed_conduit_would_not_bind_is_refused_before_anything_is_sent(conduit, seed):
    before = len(conduit.tasks())
    async with ConduitClient(conduit.base_url, conduit.api_key) as client:
        with pytest.raises(ConfigurationError, match=r"^seed must be"):
            await client.generate_video("waves", seed=seed)
    assert len(conduit.tasks()) == before
