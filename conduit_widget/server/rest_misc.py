"""Models, discovery, stored media, health, and the local-only test controls."""

from __future__ import annotations

import re
from typing import Any, Final

from aiohttp import web

from conduit_widget import protocol
from conduit_widget.server.catalogue import Model, listed_models
from conduit_widget.server.error_bodies import openai_error, problem_not_found
from conduit_widget.server.shared_state import ServerContext

_TASK_ID: Final = re.compile(r"^task_[0-9a-f]{32}$")
_MEDIA_NAME: Final = re.compile(r"^[a-z]+(-\d+)?\.(png|mp4)$")

DROP_CONNECTIONS: Final = "/_local/drop-connections"
# 7c3fd76a's DiscoveryController: flat flags, in this order.
_FLAT_FLAGS: Final = (
    "chat",
    "streaming",
    "vision",
    "function_calling",
    "audio_transcription",
    "text_to_speech",
    "realtime_audio",
    "video_generation",
    "image_generation",
    "embeddings",
)
# The Gateway's DiscoveredModelDto.capabilities members.
_GATEWAY_FLAGS: Final = (
    "chat",
    "chat_stream",
    "image_input",
    "video_input",
    "audio_input",
    "file_input",
    "vision",
    "video_understanding",
    "image_generation",
    "video_generation",
    "embeddings",
    "function_calling",
    "speech_to_text",
    "text_to_speech",
    "rerank",
)


def _can(model: Model, flag: str) -> bool:
    if flag in ("chat", "streaming", "chat_stream", "function_calling"):
        return model.kind == "chat"
    return flag == f"{model.kind}_generation"


def _discovered(model: Model, gateway: bool) -> dict[str, Any]:
    """One discovered model: 7c3fd76a's flat ``supports_*`` flags, or the Gateway's ``capabilities`` object."""
    entry: dict[str, Any] = {
        "id": model.id,
        "provider": "local",
        "display_name": model.id,
        "description": f"The local Conduit's {model.kind} model",
        "model_card_url": "",
        "max_tokens": 4096 if model.kind == "chat" else 0,
        "tokenizer_type": "cl100k" if model.kind == "chat" else "none",
        "parameters": "{}",  # JSON text in a string, as both versions send it
    }
    if gateway:
        modality = {"chat": "text", "image": "image", "video": "video"}[model.kind]
        entry.update(input_modalities=["text"], output_modalities=[modality], capability_source="local")
        entry["capabilities"] = {flag: _can(model, flag) for flag in _GATEWAY_FLAGS}
    else:
        entry.update({f"supports_{flag}": _can(model, flag) for flag in _FLAT_FLAGS})
    return entry


def misc_routes(ctx: ServerContext) -> list[web.RouteDef]:
    profile = ctx.profile
    gateway = profile.json == "gateway"

    async def models(request: web.Request) -> web.Response:
        # Ids only: neither version says here what a model can do (that is discovery's job).
        data = [{"id": m.id, "object": "model"} for m in listed_models()]
        return web.json_response({"data": data, "object": "list"})

    async def discovery(request: web.Request) -> web.Response:
        wanted = request.query.get("capability")
        found = listed_models()
        if wanted is not None:
            flag = wanted.replace("-", "_").lower()
            found = [m for m in found if _can(m, flag)]
        data = [_discovered(m, gateway) for m in found]
        return web.json_response({"data": data, "count": len(data)})

    async def capabilities(request: web.Request) -> web.Response:
        names = ["chat", "chat_stream", *(f for f in _FLAT_FLAGS if f not in ("chat", "streaming"))]
        return web.json_response({"capabilities": [*names, "tool_use", "json_mode"]})

    async def media(request: web.Request) -> web.StreamResponse:
        task_id, name = request.match_info["task_id"], request.match_info["name"]
        # Both parts are checked against strict patterns, so no path outside the media folder can be named.
        path = ctx.media_dir / task_id / name
        if not _TASK_ID.match(task_id) or not _MEDIA_NAME.match(name) or not path.is_file():
            if gateway:
                return openai_error(
                    404, "Resource not found", code="not_found", type_="not_found_error", omit_null_param=True
                )
            return problem_not_found()
        # FileResponse answers Range requests, which <video> uses to seek.
        headers = {"Cache-Control": "public, max-age=3600", "ETag": f'"{task_id}/{name}"'}
        if name.endswith(".mp4"):
            headers.update({"Accept-Ranges": "bytes", "Access-Control-Allow-Origin": "*"})
        return web.FileResponse(path, headers=headers)

    async def health(request: web.Request) -> web.Response:
        # ASP.NET's health check writer: the status word as plain text, never cached.
        return web.Response(text="Healthy", headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    async def drop_connections(request: web.Request) -> web.Response:
        return web.json_response({"dropped": ctx.hubs.drop_connections()})

    routes = [
        web.get(protocol.MODELS, models),
        web.get(profile.media_files_route + "/{task_id}/{name}", media),
        web.get("/health", health),
        web.post(DROP_CONNECTIONS, drop_connections),
    ]
    if profile.discovery_route is not None:
        routes += [
            web.get(profile.discovery_route + "/models", discovery),
            web.get(profile.discovery_route + "/capabilities", capabilities),
        ]
    return routes
