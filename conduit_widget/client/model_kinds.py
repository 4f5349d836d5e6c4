"""Which of a gateway's models make images, and which videos.

A plain ``/v1/models`` list does not say what a model does; model discovery does, where a gateway has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from conduit_widget.protocol import Kind

# Words in model names that say what a model makes, for a gateway with no discovery to ask.
_NAMED_KINDS: Final[tuple[tuple[Kind, tuple[str, ...]], ...]] = (
    ("video", ("video", "minimax", "runway", "sora", "veo", "kling", "luma", "pika", "hailuo", "wan2", "seedance")),
    (
        "image",
        ("image", "dall-e", "dalle", "stable-diffusion", "sdxl", "flux", "imagen", "midjourney", "recraft", "ideogram"),
    ),
)


def discovered_kinds(model: Mapping[str, Any]) -> frozenset[Kind]:
    """What a model makes, as model discovery says: 7c3fd76a's ``supports_image_generation`` flags, or the
    Gateway's ``capabilities: {image_generation, video_generation}``."""
    flags = model.get("capabilities")
    flags = flags if isinstance(flags, Mapping) else model
    kinds: set[Kind] = set()
    for kind in ("image", "video"):
        if flags.get(f"{kind}_generation") is True or flags.get(f"supports_{kind}_generation") is True:
            kinds.add(kind)
    return frozenset(kinds)


def named_kinds(model_id: str) -> frozenset[Kind]:
    """What a model's name says it makes (nothing for a chat model): the best a plain ``/v1/models`` allows."""
    name = model_id.lower()
    return frozenset(kind for kind, words in _NAMED_KINDS if any(word in name for word in words))


def ids_making(kind: Kind, models: list[dict[str, Any]], *, discovered: bool) -> list[str]:
    """The ids of `models` that make `kind`: by what discovery says of them, or else by their names."""
    says = discovered_kinds if discovered else (lambda model: named_kinds(str(model["id"])))
    return [m["id"] for m in models if isinstance(m.get("id"), str) and kind in says(m)]
