"""The local Conduit's media: real PNGs and H.264 clips, deterministic per (prompt, seed), distinct per prompt."""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from av.container import InputContainer
from PIL import Image, ImageChops, ImageStat

from conduit_widget.server.media import RenderedVideo, VideoWriter, check_image_size, drawing, render_image, scene

# --- helpers -------------------------------------------------------------------------------------------


def _open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def _thumb(image: Image.Image) -> Image.Image:
    # Averaging down to 32x32 compares what a person sees (colour and layout), not edge pixels.
    return image.convert("RGB").resize((32, 32), Image.Resampling.BOX)


def _mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel, 0..255, between two same-size images."""
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def _scene_means(data: bytes) -> tuple[float, float, float]:
    """Mean R, G, B of a picture above its caption band."""
    image = _open_png(data)
    r, g, b = ImageStat.Stat(image.crop((0, 0, image.width, round(image.height * 0.9)))).mean
    return r, g, b


def _luma(rgb: tuple[float, float, float]) -> float:
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b


def _open_mp4(data: bytes) -> InputContainer:
    return av.open(io.BytesIO(data), "r")


def _decode(container: InputContainer) -> list[Image.Image]:
    return [frame.to_image() for frame in container.decode(video=0)]  # type: ignore[no-untyped-call]


def _top_level_boxes(mp4: bytes) -> list[str]:
    boxes, offset = [], 0
    while offset + 8 <= len(mp4):
        size = int.from_bytes(mp4[offset : offset + 4], "big")
        kind = mp4[offset + 4 : offset + 8].decode("latin-1")
        if size == 1:  # 64-bit size follows the type
            size = int.from_bytes(mp4[offset + 8 : offset + 16], "big")
        elif size == 0:  # runs to the end of the file
            size = len(mp4) - offset
        assert size >= 8, f"corrupt MP4 box {kind!r} at {offset}"
        boxes.append(kind)
        offset += size
    assert offset == len(mp4), "MP4 boxes do not add up to the file size"
    return boxes


def _encode(prompt: str = "a lighthouse", *, width: int = 128, height: int = 96, duration: float = 1.0,
            fps: int = 24, seed: int = 5) -> RenderedVideo:  # fmt: skip
    return VideoWriter(prompt, seed=seed, width=width, height=height, duration=duration, fps=fps).finish()


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point tempfile at an empty folder, so a test can see the writer's scratch files come and go."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


# --- images --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height"), [(64, 64), (128, 96), (96, 128), (333, 201), (512, 512), (2048, 64), (64, 2048)]
)
def test_image_is_a_png_of_the_requested_size(width: int, height: int) -> None:
    image = Image.open(io.BytesIO(render_image("a lighthouse on a cliff", seed=1, width=width, height=height)))
    assert image.format == "PNG"
    assert image.size == (width, height)
    assert image.mode == "RGB"
    image.load()  # decodes every row, so a truncated file fails here


def test_largest_image_renders() -> None:
    image = _open_png(render_image("a lighthouse", seed=1, width=2048, height=2048))
    assert image.size == (2048, 2048)


def test_same_inputs_give_identical_bytes() -> None:
    first = render_image("a red fox in the snow", seed=42, width=200, height=150, index=1)
    second = render_image("a red fox in the snow", seed=42, width=200, height=150, index=1)
    assert first == second


def test_bytes_do_not_depend_on_the_process() -> None:
    """No hash(), set order or clock sneaks in: another interpreter with another hash seed agrees."""
    here = hashlib.sha256(render_image("night over the sea", seed=7, width=96, height=64)).hexdigest()
    root = Path(drawing.__file__).resolve().parents[4]
    code = (
        "import hashlib; from conduit_widget.server.media import render_image; "
        "print(hashlib.sha256(render_image('night over the sea', seed=7, width=96, height=64)).hexdigest())"
    )
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "12345"}
    there = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert there == here


# Identical inputs give 0. Over 60 pairs of unrelated prompts (and of indexes, and of seeds) the smallest
# difference measured was about 20 levels, the median about 35; 10 levels on average over a 32x32 thumbnail
# is already an obvious change of colour or layout, so anything below it means "looks the same".
VISIBLY_DIFFERENT = 10.0


@pytest.mark.parametrize(
    ("prompt_a", "prompt_b"),
    [
        ("a cat", "a dog"),
        ("a cat", "a cat."),  # any change of prompt reshuffles the picture
        ("a quiet harbour", "a busy market"),
        ("ocean waves", "a dense forest"),
        ("a fox", "a starry night"),
    ],
)
def test_different_prompts_look_different(prompt_a: str, prompt_b: str) -> None:
    a = _thumb(_open_png(render_image(prompt_a, seed=1, width=160, height=120)))
    b = _thumb(_open_png(render_image(prompt_b, seed=1, width=160, height=120)))
    assert _mean_abs_diff(a, b) > VISIBLY_DIFFERENT


def test_index_and_seed_change_the_picture() -> None:
    base = _thumb(_open_png(render_image("a castle", seed=1, width=160, height=120, index=0)))
    other_index = _thumb(_open_png(render_image("a castle", seed=1, width=160, height=120, index=1)))
    other_seed = _thumb(_open_png(render_image("a castle", seed=2, width=160, height=120, index=0)))
    assert _mean_abs_diff(base, other_index) > VISIBLY_DIFFERENT
    assert _mean_abs_diff(base, other_seed) > VISIBLY_DIFFERENT
    assert _mean_abs_diff(other_index, other_seed) > VISIBLY_DIFFERENT


def _ocean(rgb: tuple[float, float, float]) -> bool:
    r, g, b = rgb
    return b > r + 60 and b > g


def _warm(rgb: tuple[float, float, float]) -> bool:
    r, _, b = rgb
    return r > b + 60


def _green(rgb: tuple[float, float, float]) -> bool:
    r, g, b = rgb
    return g > r + 25 and g > b + 25


def _snowy(rgb: tuple[float, float, float]) -> bool:
    r, _, b = rgb
    return min(rgb) > 170 and b >= r


def _night(rgb: tuple[float, float, float]) -> bool:
    r, _, b = rgb
    return _luma(rgb) < 100 and b > r + 25


def _fox(rgb: tuple[float, float, float]) -> bool:
    r, g, b = rgb
    return r > 180 and r > g + 40 and g > b


@pytest.mark.parametrize(
    ("prompt", "looks_right"),
    [
        ("the ocean", _ocean),
        ("waves rolling onto the sea wall", _ocean),
        ("a sunset", _warm),
        ("a camp fire", _warm),
        ("a dense forest", _green),
        ("trees", _green),
        ("snow", _snowy),
        ("ice in winter", _snowy),
        ("a night sky", _night),
        ("deep space", _night),
        ("a fox", _fox),
    ],
)
def test_keywords_pick_the_palette_a_person_expects(
    prompt: str, looks_right: Callable[[tuple[float, float, float]], bool]
) -> None:
    for seed in range(3):
        means = _scene_means(render_image(prompt, seed=seed, width=128, height=96))
        assert looks_right(means), f"{prompt!r} seed {seed}: mean RGB {tuple(round(c) for c in means)}"


def test_scenery_outranks_a_subject_for_the_background() -> None:
    """A fox in the snow is a snowy picture with a fox in it, not an orange one."""
    fox_in_snow = _scene_means(render_image("a fox in the snow", seed=3, width=160, height=120))
    fox = _scene_means(render_image("a fox", seed=3, width=160, height=120))
    assert fox_in_snow[2] > fox[2] + 50  # far bluer
    assert _luma(fox_in_snow) > _luma(fox)


def test_caption_band_is_darker_than_the_picture_above_it() -> None:
    image = _open_png(render_image("snow", seed=1, width=256, height=192))
    band = ImageStat.Stat(image.crop((0, 180, 256, 192)).convert("L")).mean[0]
    above = ImageStat.Stat(image.crop((0, 100, 256, 170)).convert("L")).mean[0]
    assert band < above - 60


@pytest.mark.parametrize(
    "prompt",
    [
        "",
        "x" * 5000,
        "Ünïcödé prompts — with 日本語, emoji 🦊 and a\nnewline\tand tab",
        "\ud800 a lone surrogate from a JSON body",
    ],
)
def test_awkward_prompts_render(prompt: str) -> None:
    for width, height in ((64, 64), (300, 200)):
        assert _open_png(render_image(prompt, seed=0, width=width, height=height)).size == (width, height)


def test_captions_show_no_missing_glyph_boxes() -> None:
    # Accents are stripped and other non-ASCII becomes "?", which the default font can draw.
    assert scene._caption_text("Crème brûlée\n at  night 🦊") == "Creme brulee at night ?"


@pytest.mark.parametrize(("width", "height"), [(64, 64), (2048, 2048), (64, 2048), (1024, 768)])
def test_check_image_size_accepts_the_range(width: int, height: int) -> None:
    check_image_size(width, height)


@pytest.mark.parametrize(("width", "height"), [(63, 64), (64, 63), (2049, 512), (512, 4096), (0, 0), (-64, 64)])
def test_check_image_size_rejects_outside_the_range(width: int, height: int) -> None:
    with pytest.raises(ValueError, match=f"64 and 2048.*{width}x{height}"):
        check_image_size(width, height)
    with pytest.raises(ValueError, match=f"{width}x{height}"):
        render_image("a cat", seed=1, width=width, height=height)


def test_image_render_is_fast() -> None:
    started = time.perf_counter()
    render_image("sunset over the ocean waves", seed=1, width=1024, height=1024)
    # The brief is "well under 0.3 s on one core" (about 0.1 s measured); the margin absorbs busy CI runners.
    assert time.perf_counter() - started < 1.0


# --- video ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "duration", "fps"),
    [(128, 96, 1.0, 24), (96, 128, 0.5, 30), (64, 64, 1.3, 10), (160, 90, 0.01, 1), (128, 96, 0.25, 60)],
)
def test_video_decodes_to_what_was_asked(width: int, height: int, duration: float, fps: int) -> None:
    video = _encode(width=width, height=height, duration=duration, fps=fps)
    expected_frames = max(1, round(duration * fps))
    assert (video.mime_type, video.codec) == ("video/mp4", "h264")
    assert (video.width, video.height, video.fps, video.frames) == (width, height, fps, expected_frames)
    assert video.duration == pytest.approx(expected_frames / fps)

    with _open_mp4(video.data) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (width, height)
        assert container.duration is not None and stream.duration is not None and stream.time_base is not None
        one_frame = 1 / fps
        request = max(duration, 1 / fps)  # a clip is at least one frame long
        assert abs(container.duration / av.time_base - request) <= one_frame
        assert abs(float(stream.duration * stream.time_base) - request) <= one_frame
        frames = _decode(container)
    assert len(frames) == expected_frames
    assert all(frame.size == (width, height) for frame in frames)


def test_video_frames_move() -> None:
    video = _encode(duration=1.0, fps=24)
    with _open_mp4(video.data) as container:
        frames = [_thumb(frame) for frame in _decode(container)]
    assert _mean_abs_diff(frames[0], frames[-1]) > 2.0
    # Every step changes something (the progress sweep alone guarantees it), so nothing looks frozen.
    assert all(_mean_abs_diff(a, b) > 0.05 for a, b in itertools.pairwise(frames))


def test_video_index_comes_first_so_browsers_can_start_early() -> None:
    boxes = _top_level_boxes(_encode().data)
    assert boxes[0] == "ftyp"
    assert boxes.index("moov") < boxes.index("mdat")


def test_video_is_tagged_bt709() -> None:
    with _open_mp4(_encode().data) as container:
        context = container.streams.video[0].codec_context
        assert context.colorspace == av.video.reformatter.Colorspace.ITU709
        assert context.color_range == av.video.reformatter.ColorRange.MPEG


def test_poster_is_a_png_frame_of_the_clip() -> None:
    video = _encode(prompt="ocean waves", width=160, height=90, duration=1.0, fps=12)
    poster = _open_png(video.poster_png)
    assert poster.size == (160, 90)
    with _open_mp4(video.data) as container:
        frames = _decode(container)
    # The poster is the middle frame; H.264 at crf 23 only blurs it a little.
    distances = [_mean_abs_diff(_thumb(poster), _thumb(frame)) for frame in frames]
    assert min(distances) < 3.0
    assert distances.index(min(distances)) == len(frames) // 2


def test_video_looks_like_the_prompt() -> None:
    poster = _scene_means(_encode(prompt="the ocean", duration=0.5).poster_png)
    assert _ocean(poster)
    a = _thumb(_open_png(_encode(prompt="a cat", duration=0.5).poster_png))
    b = _thumb(_open_png(_encode(prompt="a dog", duration=0.5).poster_png))
    assert _mean_abs_diff(a, b) > VISIBLY_DIFFERENT


def test_video_is_deterministic() -> None:
    # x264 is deterministic with threads unless told otherwise, and the muxer stamps no creation time.
    first, second = _encode(duration=0.5), _encode(duration=0.5)
    assert first == second


def test_frames_are_written_in_chunks(private_tmp: Path) -> None:
    writer = VideoWriter("a windmill", seed=1, width=128, height=96, duration=1.0, fps=10)
    assert (writer.total_frames, writer.frames_written) == (10, 0)
    assert list(private_tmp.iterdir()) == []  # the constructor does no work
    assert writer.write_frames(4) == 4
    assert writer.frames_written == 4
    assert writer.write_frames(0) == 0
    assert writer.write_frames(100) == 6  # only what is left
    assert writer.write_frames(5) == 0
    assert writer.frames_written == 10
    video = writer.finish()
    assert video.frames == 10
    assert writer.finish() is video  # a second finish hands back the same clip
    with pytest.raises(RuntimeError):
        writer.write_frames(1)
    writer.close()  # after finish: nothing left to free, and no error
    assert list(private_tmp.iterdir()) == []


def test_finish_writes_any_frames_still_missing() -> None:
    writer = VideoWriter("a windmill", seed=1, width=128, height=96, duration=1.0, fps=12)
    writer.write_frames(3)
    video = writer.finish()
    assert writer.frames_written == video.frames == 12
    with _open_mp4(video.data) as container:
        assert len(list(container.decode(video=0))) == 12


@pytest.mark.parametrize(("width", "height"), [(333, 200), (200, 333), (129, 97)])
def test_odd_video_sizes_are_refused(width: int, height: int) -> None:
    with pytest.raises(ValueError, match=f"even.*{width}x{height}"):
        VideoWriter("a cat", seed=1, width=width, height=height, duration=1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": 0.0}, "duration"),
        ({"duration": -1.0}, "duration"),
        ({"duration": math.nan}, "duration"),
        ({"duration": math.inf}, "duration"),
        ({"fps": 0}, "fps"),
        ({"fps": 61}, "fps"),
        ({"width": 32, "height": 32}, "32x32"),
        ({"width": 4096, "height": 2160}, "4096x2160"),
    ],
)
def test_bad_video_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    params: dict[str, float] = {"width": 128, "height": 96, "duration": 1.0, "fps": 24, **kwargs}
    with pytest.raises(ValueError, match=message):
        VideoWriter(
            "a cat",
            seed=1,
            width=int(params["width"]),
            height=int(params["height"]),
            duration=params["duration"],
            fps=int(params["fps"]),
        )


def test_close_after_partial_writing_frees_everything(private_tmp: Path) -> None:
    writer = VideoWriter("a cancelled clip", seed=1, width=128, height=96, duration=2.0)
    writer.write_frames(10)
    assert len(list(private_tmp.iterdir())) == 1  # the scratch MP4
    writer.close()
    writer.close()  # twice is fine
    assert list(private_tmp.iterdir()) == []
    with pytest.raises(RuntimeError):
        writer.write_frames(1)
    with pytest.raises(RuntimeError):
        writer.finish()


def test_close_before_any_frame_is_fine(private_tmp: Path) -> None:
    with VideoWriter("never started", seed=1, width=128, height=96, duration=1.0):
        pass
    assert list(private_tmp.iterdir()) == []


def test_close_from_another_thread_while_writing(private_tmp: Path) -> None:
    """What a cancelled ``asyncio.to_thread(writer.write_frames, n)`` does: close() races the worker."""
    writer = VideoWriter("a long clip", seed=1, width=128, height=96, duration=60.0)
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["written"] = writer.write_frames(writer.total_frames)
        except BaseException as exc:  # the assertion below reports it
            outcome["error"] = exc

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + 10
    while writer.frames_written < 3 and time.monotonic() < deadline:
        time.sleep(0.001)
    started = time.perf_counter()
    writer.close()
    assert time.perf_counter() - started < 0.5  # close() never waits for the worker's chunk
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert "error" not in outcome, outcome
    written = outcome["written"]
    assert isinstance(written, int) and 3 <= written < writer.total_frames
    assert list(private_tmp.iterdir()) == []  # the worker freed the encoder when it saw the close
