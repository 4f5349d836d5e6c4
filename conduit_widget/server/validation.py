"""What a create request must satisfy once its body has bound: the server's own checks, then the local models'.

The server's checks are the real ones, in the real order (ImagesController.Async.cs and VideoGenerationService
.Validation.cs at 7c3fd76a; ImagesEndpoints.Async.cs and VideosEndpoints.cs in the Gateway). A refusal names its
reason, and each route words it as its server does. The local models then check what they can render (sizes,
how many, how long), as a real provider would; the real server has no such limits of its own.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Final, Literal

from conduit_widget import protocol
from conduit_widget.protocol import Kind
from conduit_widget.server.catalogue import Model, find_model
from conduit_widget.server.media import MAX_FPS, MAX_IMAGE_SIDE, MIN_IMAGE_SIDE
from conduit_widget.server.profiles import VIDEO_FPS, VIDEO_SECONDS, Profile

_SIZE: Final = re.compile(protocol.SIZE_PATTERN)
MAX_PROMPT: Final = 4000
MAX_IMAGES: Final = 10
Reason = Literal["missing_prompt", "missing_model", "unsupported_model", "duration_range", "fps_range", "local_limit"]


class Refusal(Exception):
    """A create request refused after binding; `message` is the local model's own words for a local limit."""

    def __init__(self, reason: Reason, field: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CreateRequest:
    kind: Kind
    model_name: str
    model: Model | None  # None: a model the server took without knowing it (the Gateway's videos), to fail later
    prompt: str
    params: dict[str, Any]


def check_create(profile: Profile, kind: Kind, body: dict[str, Any]) -> CreateRequest:
    """`body` as `binding.bind` returned it; raises Refusal."""
    prompt: str | None = body.get("prompt")
    model_name: str | None = body.get("model")
    if kind == "image" and model_name is None and profile.image_default_model is not None:
        model_name = profile.image_default_model  # the Gateway: `request.Model ?? "dall-e-2"`
    # MVC has refused blank ones already (implicit [Required]); the Gateway's handlers check them here.
    if not prompt or not prompt.strip():
        raise Refusal("missing_prompt", "prompt")
    if not model_name or not model_name.strip():
        raise Refusal("missing_model", "model")
    model = find_model(model_name, kind)
    if model is None and (kind == "image" or profile.video_model_checked_at_create):
        raise Refusal("unsupported_model", "model")
    if kind == "video":
        _in_range(body.get("duration"), VIDEO_SECONDS, "duration_range", "duration")
        _in_range(body.get("fps"), VIDEO_FPS, "fps_range", "fps")
    return CreateRequest(kind, model_name, model, prompt, _local_params(kind, prompt, body, profile))


def _in_range(value: int | None, bounds: tuple[int, int], reason: Reason, field: str) -> None:
    if value is not None and not bounds[0] <= value <= bounds[1]:
        raise Refusal(reason, field)


def _local_params(kind: Kind, prompt: str, body: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """What the local models make of the request, refused with their own words where they cannot render it."""
    if len(prompt) > MAX_PROMPT:
        raise Refusal("local_limit", "prompt", f"Prompt is too long: {len(prompt)} characters, at most {MAX_PROMPT}.")
    # The provider sees a seed only where the server passes it on; any other value is no seed to a local model.
    seed = body.get("seed") if kind == "video" or profile.image_seed_reaches_provider else None
    usable = isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
    params: dict[str, Any] = {"seed": seed if usable else secrets.randbelow(2**31)}
    # A count below 1 is taken as 1, as the real orchestrator's parameter validator does.
    n = max(1, body.get("n", 1))
    if kind == "image":
        if n > MAX_IMAGES:
            raise Refusal(
                "local_limit", "n", f"The local image models make at most {MAX_IMAGES} images a request, got {n}."
            )
        params.update(n=n, b64=body.get("response_format") == "b64_json")
        default_size = "1024x1024"
    else:
        if n != 1:
            raise Refusal("local_limit", "n", f"The local video models make one video a request, got n={n}.")
        fps = body.get("fps") or 24
        if fps > MAX_FPS:
            raise Refusal(
                "local_limit", "fps", f"The local video models render at most {MAX_FPS} frames a second, got {fps}."
            )
        params.update(n=1, duration=body.get("duration") or 4, fps=fps)
        default_size = "640x360"
    width, height = _size(body.get("size"), default_size, even=kind == "video")
    params.update(size=f"{width}x{height}", width=width, height=height)
    for key in ("quality", "style", "user"):
        if isinstance(body.get(key), str):
            params[key] = body[key]
    return params


def _size(value: str | None, default: str, *, even: bool) -> tuple[int, int]:
    text = value or default
    if _SIZE.fullmatch(text) is None:
        raise Refusal("local_limit", "size", f"'size' must look like '1024x1024', got {value!r}.")
    width, height = map(int, text.split("x"))
    if not (MIN_IMAGE_SIDE <= width <= MAX_IMAGE_SIDE and MIN_IMAGE_SIDE <= height <= MAX_IMAGE_SIDE):
        raise Refusal(
            "local_limit", "size", f"'size' sides must be {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} pixels, got {text}."
        )
    if even and (width % 2 or height % 2):
        raise Refusal("local_limit", "size", f"video 'size' must have even sides (H.264), got {text}.")
    return width, height
