"""The servers the local Conduit can be: each real Conduit's contract, as data.

A profile says everything a client can tell apart between two servers: routes, how request bodies are bound and
refused, response casing, hub protocols, keepalive, hub methods, which events are sent and what a cancel sends.
The local Conduit consults its profile instead of deciding for itself, so it is as strict as the server it plays.
Every value here was read from that server's source; ``docs/compatibility.md`` cites the file for each.

- ``conduit-2025.08``: knnlabs/Conduit at 7c3fd76a (2025-08-28), the ``ConduitLLM.Http`` MVC service.
- ``conduit-gateway``: the same project's later ``Services/ConduitLLM.Gateway`` restructure (minimal APIs).
- ``js-client-docs``: the protocol Conduit's JavaScript client documentation describes (the seed document).
- ``default``: conduit-2025.08's requests and answers, with the JS client documentation's hub events and method names
  beside the real ones and MessagePack offered, so that both kinds of client work out of the box; progress comes at
  the local models' own finer cadence. It refuses every request conduit-2025.08 refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final, Literal

from conduit_widget import protocol
from conduit_widget.protocol import Kind

ClrType = Literal["string", "int", "bool", "headers"]


@dataclass(frozen=True)
class Member:
    """One member of a request DTO as System.Text.Json binds it."""

    name: str  # the JSON name ([JsonPropertyName])
    clr: ClrType
    nullable: bool = True  # `int?`, `string?`; `int n` is not: a JSON null is a binding error
    required: bool = False  # C#'s `required` keyword: absent is a binding error
    not_blank: bool = False  # a non-nullable reference type: MVC's implicit [Required] refuses null, "" and blanks


@dataclass(frozen=True)
class RequestSchema:
    clr_name: str  # the DTO's full .NET name, as binding errors quote it
    members: tuple[Member, ...]


# ConduitLLM.Core/Models/ImageGenerationRequest.cs at 7c3fd76a.
IMAGE_REQUEST: Final = RequestSchema(
    "ConduitLLM.Core.Models.ImageGenerationRequest",
    (
        Member("prompt", "string", nullable=False, required=True, not_blank=True),
        Member("model", "string", nullable=False, required=True, not_blank=True),
        Member("n", "int", nullable=False),
        Member("quality", "string"),
        Member("response_format", "string"),
        Member("size", "string"),
        Member("style", "string"),
        Member("user", "string"),
        Member("image", "string"),
        Member("mask", "string"),
        Member("operation", "string", nullable=False, not_blank=True),
    ),
)
# The Gateway's copy: `model` is optional (it defaults to dall-e-2), and six members were added.
_GATEWAY_IMAGE_REQUEST: Final = RequestSchema(
    IMAGE_REQUEST.clr_name,
    (
        *(Member("model", "string") if m.name == "model" else m for m in IMAGE_REQUEST.members),
        Member("background", "string"),
        Member("moderation", "string"),
        Member("output_compression", "int"),
        Member("output_format", "string"),
        Member("partial_images", "int"),
        Member("stream", "bool"),
    ),
)
# ConduitLLM.Core/Models/VideoGenerationModels.cs: the same members in both versions.
VIDEO_REQUEST: Final = RequestSchema(
    "ConduitLLM.Core.Models.VideoGenerationRequest",
    (
        Member("prompt", "string", nullable=False, required=True, not_blank=True),
        Member("model", "string", nullable=False, required=True, not_blank=True),
        Member("duration", "int"),
        Member("size", "string"),
        Member("fps", "int"),
        Member("style", "string"),
        Member("response_format", "string"),
        Member("user", "string"),
        Member("seed", "int"),
        Member("n", "int", nullable=False),
        Member("webhook_url", "string"),
        Member("webhook_headers", "headers"),
    ),
)

# Ranges the servers check after binding (VideoGenerationService.Validation.cs; the Gateway's VideosEndpoints.cs).
VIDEO_SECONDS: Final = protocol.VIDEO_SECONDS
VIDEO_FPS: Final = (1, 120)

JsonStyle = Literal["mvc", "gateway"]
ProgressCadence = Literal["steps", "per-image", "start-only"]
VideoProgress = Literal["frames", "minimax", "provider"]


@dataclass(frozen=True)
class Profile:
    name: str
    summary: str
    # -- REST ------------------------------------------------------------------------------------------------------
    # "mvc": ConduitLLM.Http's controllers. camelCase unless [JsonPropertyName], nulls written, a body that does not
    # bind is answered with ValidationProblemDetails, video errors are ProblemDetails, 415 for a non-JSON body.
    # "gateway": minimal APIs with snake_case, nulls omitted, every error in the OpenAI shape.
    json: JsonStyle
    media_prefix: str  # where the async media routes live: "/v1" or "/v1/conduit"
    tasks_route: str | None  # the generic task routes
    discovery_route: str | None
    media_files_route: str  # where stored media are served
    image_request: RequestSchema
    video_request: RequestSchema
    image_default_model: str | None  # a missing image `model`: refused (None) or this one
    video_model_checked_at_create: bool  # 2025.08 refuses a model without video capability; the Gateway fails it later
    video_create_ids: tuple[str, ...]  # the id members of a video create answer
    image_status_progress: bool  # 2025.08 stores no image progress: its status route says 0 until done
    # An image `seed` is no member of the image request: it binds into [JsonExtensionData], which 2025.08's async
    # route drops (it copies the named members into the event) and the Gateway passes on to the provider.
    image_seed_reaches_provider: bool
    # -- hubs ------------------------------------------------------------------------------------------------------
    hub_protocols: tuple[str, ...]
    # MessagePack arguments of this many bytes and more are sent LZ4-compressed (MessagePack-CSharp's Lz4BlockArray).
    messagepack_compress_from: int | None
    keepalive_interval: float
    client_timeout: float
    handshake_timeout: float
    max_hub_message: int
    transports: tuple[str, ...]  # what negotiate lists (the local Conduit serves WebSockets only)
    image_hub_methods: tuple[str, ...]
    video_hub_methods: tuple[str, ...]
    tasks_hub: bool
    # -- events ----------------------------------------------------------------------------------------------------
    object_events: bool  # ImageGeneration* / VideoGeneration*, one camelCase object each
    seed_events: bool  # positional TaskProgress / TaskCompleted / TaskFailed and Request* (the JS client docs)
    video_progress_key: str  # "progress" (7c3fd76a) or "progressPercentage" (the Gateway)
    image_progress: ProgressCadence
    video_progress: VideoProgress
    video_details: bool  # the completed video's preview, duration, resolution and size: 7c3fd76a leaves them empty
    cancel_sends_progress: frozenset[Kind]  # kinds whose cancel is announced as a progress event, status "cancelled"

    @property
    def routes(self) -> dict[str, str]:
        """The async media routes under this profile's prefix."""
        return {name: self.media_prefix + template[len("/v1") :] for name, template in protocol.MEDIA_ROUTES.items()}


_SUBSCRIBE_TASK: Final = (protocol.SUBSCRIBE, protocol.UNSUBSCRIBE)
_SUBSCRIBE_REQUEST: Final = (protocol.SEED_SUBSCRIBE_VIDEO, protocol.SEED_UNSUBSCRIBE_VIDEO)
_ALL_TRANSPORTS: Final = ("WebSockets", "ServerSentEvents", "LongPolling")

CONDUIT_2025_08: Final = Profile(
    name="conduit-2025.08",
    summary="knnlabs/Conduit at 7c3fd76a (ConduitLLM.Http)",
    json="mvc",
    media_prefix="/v1",
    tasks_route="/v1/tasks",
    discovery_route="/v1/discovery",
    media_files_route="/v1/media",
    image_request=IMAGE_REQUEST,
    video_request=VIDEO_REQUEST,
    image_default_model=None,
    video_model_checked_at_create=True,
    video_create_ids=("taskId",),
    image_status_progress=False,
    image_seed_reaches_provider=False,
    hub_protocols=("json",),
    messagepack_compress_from=None,
    keepalive_interval=30.0,
    client_timeout=60.0,
    handshake_timeout=15.0,
    max_hub_message=32 * 1024,
    transports=_ALL_TRANSPORTS,
    image_hub_methods=_SUBSCRIBE_TASK,
    video_hub_methods=_SUBSCRIBE_TASK,
    tasks_hub=True,
    object_events=True,
    seed_events=False,
    video_progress_key="progress",
    image_progress="per-image",
    video_progress="minimax",
    video_details=False,
    cancel_sends_progress=frozenset({"image"}),
)

CONDUIT_GATEWAY: Final = replace(
    CONDUIT_2025_08,
    name="conduit-gateway",
    summary="knnlabs/Conduit's Services/ConduitLLM.Gateway restructure",
    json="gateway",
    media_prefix="/v1/conduit",
    tasks_route="/v1/conduit/tasks",
    discovery_route="/v1/conduit/discovery",
    media_files_route="/v1/conduit/media",
    image_request=_GATEWAY_IMAGE_REQUEST,
    image_default_model="dall-e-2",
    image_seed_reaches_provider=True,
    video_model_checked_at_create=False,
    video_create_ids=("task_id",),
    hub_protocols=("json", "messagepack"),
    messagepack_compress_from=256,
    video_progress_key="progressPercentage",
    image_progress="start-only",
    video_progress="provider",
    video_details=True,
    cancel_sends_progress=frozenset({"image", "video"}),
)

JS_CLIENT_DOCS: Final = replace(
    CONDUIT_2025_08,
    name="js-client-docs",
    summary="the protocol Conduit's JavaScript client documentation describes",
    video_create_ids=("request_id",),
    image_status_progress=True,
    keepalive_interval=15.0,  # the docs' client keeps @microsoft/signalr's 30 s server timeout: ASP.NET's default
    client_timeout=30.0,
    video_hub_methods=_SUBSCRIBE_REQUEST,
    tasks_hub=False,
    object_events=False,
    seed_events=True,
    image_progress="steps",
    video_progress="frames",
    video_details=True,
    cancel_sends_progress=frozenset(),
)

DEFAULT: Final = replace(
    CONDUIT_2025_08,
    name="default",
    summary="conduit-2025.08, with the JS client docs' events and names beside the real ones",
    video_create_ids=("taskId", "request_id"),
    image_status_progress=True,
    hub_protocols=("json", "messagepack"),
    video_hub_methods=_SUBSCRIBE_TASK + _SUBSCRIBE_REQUEST,
    seed_events=True,
    image_progress="steps",
    video_progress="frames",
    video_details=True,
)

PROFILES: Final[dict[str, Profile]] = {p.name: p for p in (DEFAULT, CONDUIT_2025_08, CONDUIT_GATEWAY, JS_CLIENT_DOCS)}


def get_profile(name: str) -> Profile:
    profile = PROFILES.get(name) if isinstance(name, str) else None
    if profile is None:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {name!r}")
    return profile
