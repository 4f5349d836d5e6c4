"""A seed, as each real server takes it: the video request's `int? Seed` member, and for images an unknown member
that binds into [JsonExtensionData] everywhere but reaches the provider only where the server passes it on
(docs/compatibility.md, "an image `seed`"). The local models draw the same picture from the same seed."""

from __future__ import annotations

import pytest

from tests.server.conftest import profile_of
from tests.server.helpers import Api


def _picture(api: Api, served, seed: object) -> bytes:
    task_id = api.create("image", size="64x64", prompt="a lighthouse at dusk", seed=seed)
    status = api.wait("image", task_id)
    assert status["status"] == "completed", status
    image = status["result"]["images"][0]
    media = api.http.get(image.get("url") or image["Url"])
    assert media.status_code == 200
    return media.content


def test_an_image_seed_gives_the_same_picture_only_where_the_server_passes_it_to_the_provider(served):
    with Api(served) as api:
        first, again, other = (_picture(api, served, seed) for seed in (7, 7, 8))
    assert first != other
    if profile_of(served).image_seed_reaches_provider:
        assert first == again
    else:  # taken without a word and dropped: the provider draws with a seed of its own each time
        assert first != again


@pytest.mark.parametrize("seed", ["seven", 1.5, None, [7], -1])
def test_an_image_seed_of_any_json_shape_is_taken_without_a_word(served, seed):
    # An extension member is a JsonElement: nothing checks its type, so nothing is refused.
    with Api(served) as api:
        response = api.post_create("image", seed=seed)
    assert response.status_code == 202, response.text


def test_a_video_seed_reaches_the_local_model_on_every_server(served):
    with Api(served) as api:
        task_id = api.create("video", seed=123)
    record = next(r for r in served.tasks() if r.id == task_id)
    assert record.params["seed"] == 123


def test_a_video_seed_that_is_not_an_int_is_refused_while_binding(served):
    with Api(served) as api:
        response = api.post_create("video", seed="seven")
    assert response.status_code == 400
    assert "seed" in response.text.lower() or profile_of(served).json == "gateway"
