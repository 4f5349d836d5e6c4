"""Turning a create request's JSON body into checked generation parameters."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from conduit_widget.protocol import Kind
from conduit_widget.server.catalogue import Model, find_model

_SIZE = re.compile(r"^(\d{2,4})x(\d{2,4})$")
MIN_SIDE, MAX_SIDE = 64, 2048
MAX_PROMPT = 4000
MAX_IMAGES = 10
MAX_VIDEO_SECONDS = 30.0


class InvalidRequest(Exception):
    """A create request the server refuses; each route words it in its own error shape."""

    def __init__(self, field: str, message: str, code: str = "invalid_parameter") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


@dataclass(frozen=True)
class CreateRequest:
    kind: Kind
    model: Model
    prompt: str
    params: dict[str, Any]


def parse_create(kind: Kind, body: Any) -> CreateRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("$", "The request body must be a JSON object.", "invalid_request")
    prompt = _required_text(body, "prompt", "Prompt")
    if len(prompt) > MAX_PROMPT:
        raise InvalidRequest("prompt", f"Prompt is too long: {len(prompt)} characters, at most {MAX_PROMPT}.")
    model_name = _required_text(body, "model", "Model")
    model = find_model(model_name, kind)
    if model is None:
        raise InvalidRequest(
            "model", f"Model '{model_name}' is not a {kind} generation model here.", "unsupported_model"
        )
    seed = _integer(body, "seed", secrets.randbelow(2**31), 0, 2**31 - 1)
    if kind == "image":
        default_size = "1024x1024"
        n = _integer(body, "n", 1, 1, MAX_IMAGES)
        fmt = body.get("response_format") or "url"
        if fmt != "url":
            raise InvalidRequest("response_format", f"response_format '{fmt}' is not supported; use 'url'.")
        params: dict[str, Any] = {"n": n, "seed": seed}
    else:
        default_size = "640x360"
        if body.get("n", 1) != 1:
            raise InvalidRequest("n", f"Only one video per request is supported, got n={body['n']!r}.")
        duration = _number(body, "duration", 4.0, 0.5, MAX_VIDEO_SECONDS)
        fps = _integer(body, "fps", 24, 1, 60)
        params = {"n": 1, "seed": seed, "duration": duration, "fps": fps}
    width, height = _size(body.get("size"), default_size, even=kind == "video")
    params.update(size=f"{width}x{height}", width=width, height=height)
    for key in ("quality", "style", "user"):
        if isinstance(body.get(key), str):
            params[key] = body[key]
    return CreateRequest(kind, model, prompt, params)


def _required_text(body: dict[str, Any], key: str, label: str) -> str:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidRequest(key, f"{label} is required", "missing_parameter")
    if not isinstance(value, str):
        raise InvalidRequest(key, f"{label} must be a string, got {type(value).__name__}.")
    return value


def _integer(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidRequest(key, f"'{key}' must be a whole number, got {value!r}.")
    if not low <= value <= high:
        raise InvalidRequest(key, f"'{key}' must be between {low} and {high}, got {value}.")
    return int(value)


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(key, f"'{key}' must be a number, got {value!r}.")
    if not low <= value <= high:
        raise InvalidRequest(key, f"'{key}' must be between {low:g} and {high:g}, got {value}.")
    return float(value)


def _size(value: Any, default: str, *, even: bool) -> tuple[int, int]:
    text = default if value is None else value
    match = _SIZE.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidRequest("size", f"'size' must look like '1024x1024', got {value!r}.")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise InvalidRequest("size", f"'size' sides must be {MIN_SIDE} to {MAX_SIDE} pixels, got {text}.")
    if even and (width % 2 or height % 2):
        raise InvalidRequest("size", f"video 'size' must have even sides (H.264), got {text}.")
    return width, height
