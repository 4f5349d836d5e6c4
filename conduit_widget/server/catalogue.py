"""The models the local Conduit answers to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from conduit_widget import protocol

ModelKind = Literal["image", "video", "chat"]


@dataclass(frozen=True)
class Model:
    id: str
    kind: ModelKind
    listed: bool = True  # failure-injection models work but are not advertised
    slowdown: float = 1.0


_MODELS: Final = (
    Model("local-image", "image"),
    Model("local-video", "video"),
    # Names from Conduit's own documentation, so the seed's examples run unchanged; dall-e-2 is what the Gateway
    # takes when an image request names no model.
    Model("dall-e-3", "image"),
    Model("dall-e-2", "image"),
    Model("gpt-image-1", "image"),
    Model("minimax-video", "video"),
    # A real gateway lists its chat models beside the media ones: a model picker must tell them apart.
    Model("gpt-4o-mini", "chat"),
)
TEST_FLAKY_MODEL: Final = "test-flaky"  # fails its first attempt only: a retried video (same task) then succeeds
FAILURE_MODELS: Final = frozenset(
    {protocol.TEST_FAIL_MODEL, protocol.TEST_SLOW_MODEL, protocol.TEST_HANG_MODEL, TEST_FLAKY_MODEL}
)


def find_model(name: str, kind: ModelKind) -> Model | None:
    """The model called `name` that makes `kind`, or None: an unknown or wrong-kind model."""
    if name in FAILURE_MODELS:
        return Model(name, kind, listed=False, slowdown=10.0 if name == protocol.TEST_SLOW_MODEL else 1.0)
    return next((m for m in _MODELS if m.id == name and m.kind == kind), None)


def listed_models() -> list[Model]:
    return [m for m in _MODELS if m.listed]
