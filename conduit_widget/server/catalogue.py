"""The models the local Conduit answers to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from conduit_widget import protocol
from conduit_widget.protocol import Kind


@dataclass(frozen=True)
class Model:
    id: str
    kind: Kind
    listed: bool = True  # failure-injection models work but are not advertised
    slowdown: float = 1.0


_MODELS: Final = (
    Model("local-image", "image"),
    Model("local-video", "video"),
    # Names from Conduit's own documentation, so the seed's examples run unchanged.
    Model("dall-e-3", "image"),
    Model("gpt-image-1", "image"),
    Model("minimax-video", "video"),
)
TEST_FLAKY_MODEL: Final = "test-flaky"  # fails its first attempt only: a retried video (same task) then succeeds
FAILURE_MODELS: Final = frozenset(
    {protocol.TEST_FAIL_MODEL, protocol.TEST_SLOW_MODEL, protocol.TEST_HANG_MODEL, TEST_FLAKY_MODEL}
)


def find_model(name: str, kind: Kind) -> Model | None:
    """The model called `name` that makes `kind`, or None: an unknown or wrong-kind model."""
    if name in FAILURE_MODELS:
        return Model(name, kind, listed=False, slowdown=10.0 if name == protocol.TEST_SLOW_MODEL else 1.0)
    return next((m for m in _MODELS if m.id == name and m.kind == kind), None)


def listed_models() -> list[Model]:
    return [m for m in _MODELS if m.listed]
