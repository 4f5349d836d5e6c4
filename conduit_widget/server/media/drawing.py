"""Pictures for the local Conduit, drawn from the prompt.

Everything here is a pure, CPU-bound function of ``(prompt, seed, index)``: the server's task runner calls
it from worker threads, so there is no shared mutable state. A hash of the inputs picks the palette and
the layout; a few keywords (sunset, ocean, forest, snow, night, fox) pick palettes and motifs a person
recognises, so different prompts look different at a glance.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Final

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from conduit_widget.server.media.scene import RGB, THEME_PALETTES, Scene, build_scene

__all__ = [
    "MAX_IMAGE_SIDE",
    "MIN_IMAGE_SIDE",
    "Font",
    "background",
    "build_scene",
    "caption_font",
    "check_image_size",
    "check_sides",
    "draw_caption",
    "draw_motion",
    "render_image",
    "to_png",
]

MIN_IMAGE_SIDE: Final = 64
MAX_IMAGE_SIDE: Final = 2048

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def check_image_size(width: int, height: int) -> None:
    """Raise ValueError unless both sides are within MIN_IMAGE_SIDE..MAX_IMAGE_SIDE."""
    check_sides("image", width, height)


def check_sides(kind: str, width: int, height: int) -> None:
    if not (MIN_IMAGE_SIDE <= width <= MAX_IMAGE_SIDE and MIN_IMAGE_SIDE <= height <= MAX_IMAGE_SIDE):
        raise ValueError(
            f"{kind} width and height must each be between {MIN_IMAGE_SIDE} and {MAX_IMAGE_SIDE} pixels, "
            f"got {width}x{height}"
        )


# --- drawing ------------------------------------------------------------------------------------------


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB, angle: float) -> Image.Image:
    # Rotate a small ramp and scale it up: no per-pixel Python, and the cost is the same at any size.
    ramp = Image.linear_gradient("L").resize((512, 512), Image.Resampling.BILINEAR)
    ramp = ramp.rotate(angle, resample=Image.Resampling.BILINEAR).crop((128, 128, 384, 384))
    ramp = ramp.resize(size, Image.Resampling.BILINEAR)
    return ImageOps.colorize(ramp, black=top, white=bottom)


def background(scene: Scene, width: int, height: int) -> Image.Image:
    """The still part of a scene: gradient, soft glows and the motifs that never move."""
    image = _gradient((width, height), scene.palette.top, scene.palette.bottom, scene.angle).convert("RGBA")
    # Glows are drawn at 1/8 scale and blurred there: a blur at full size would dominate the render time.
    small = (max(8, width // 8), max(8, height // 8))
    glow = Image.new("RGBA", small, (0, 0, 0, 0))
    draw = ImageDraw.Draw(glow)
    rng = scene.rng("glow")
    short = min(small)
    for _ in range(rng.randint(4, 8)):
        cx, cy = rng.uniform(0, small[0]), rng.uniform(0, small[1])
        radius = rng.uniform(0.15, 0.45) * short
        r, g, b = rng.choice(scene.palette.accents)
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(r, g, b, rng.randint(60, 120)))
    if "sunset" in scene.themes:
        sx, sy = _sun_position(scene)
        radius = 0.45 * short
        cx, cy = sx * small[0], sy * small[1]
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(255, 170, 80, 110))
    glow = glow.filter(ImageFilter.GaussianBlur(max(1.0, short * 0.12)))
    image.alpha_composite(glow.resize((width, height), Image.Resampling.BILINEAR))
    image = image.convert("RGB")
    draw = ImageDraw.Draw(image, "RGBA")
    if "night" in scene.themes:
        _draw_stars(scene, draw, width, height)
    if "forest" in scene.themes:
        _draw_trees(scene, draw, width, height)
    return image


def _draw_stars(scene: Scene, draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    rng = scene.rng("stars")
    scale = min(width, height) / 600
    for _ in range(max(20, min(600, width * height // 2500))):
        x, y = rng.uniform(0, width), rng.uniform(0, height * 0.85)
        radius = max(0.6, rng.choice((0.5, 0.7, 1.0, 1.6)) * scale * 2)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 250, 232, rng.randint(140, 255)))
    mx, my = rng.uniform(0.6, 0.85) * width, rng.uniform(0.12, 0.3) * height
    radius = 0.08 * min(width, height)
    draw.ellipse((mx - radius, my - radius, mx + radius, my + radius), fill=(246, 242, 220, 235))


def _draw_trees(scene: Scene, draw: ImageDraw.ImageDraw, width: int, height: int) -> None:
    rng = scene.rng("trees")
    base = height * 0.95
    for row, (shade, scale) in enumerate(((0.75, 0.22), (0.45, 0.34))):
        count = rng.randint(6, 11) - 2 * row
        for i in range(count):
            x = (i + rng.uniform(0.1, 0.9)) * width / count
            tree_h = rng.uniform(0.7, 1.0) * scale * height
            half = tree_h * 0.28
            green = rng.choice(((24, 96, 40), (34, 120, 52), (18, 80, 44)))
            fill = (*(round(c * shade) for c in green), 235)
            trunk = max(1.0, half * 0.18)
            draw.rectangle((x - trunk, base - tree_h * 0.2, x + trunk, base), fill=(70, 46, 24, 235))
            for tier in range(3):  # three stacked triangles read as a conifer at any size
                top = base - tree_h + tier * tree_h * 0.22
                bottom = top + tree_h * 0.45
                w = half * (0.6 + 0.25 * tier)
                draw.polygon([(x, top), (x + w, bottom), (x - w, bottom)], fill=fill)


def _sun_position(scene: Scene) -> tuple[float, float]:
    rng = scene.rng("sun")
    return rng.uniform(0.3, 0.7), rng.uniform(0.42, 0.55)


def draw_motion(scene: Scene, draw: ImageDraw.ImageDraw, width: int, height: int, t: float) -> None:
    """The moving part of a scene at time t in [0, 1): the clip's frame t looks like frame t + 1."""
    short = min(width, height)
    turn = 2 * math.pi * t
    if "sunset" in scene.themes:
        sx, sy = _sun_position(scene)
        cx, cy, radius = sx * width, (sy + 0.06 * (1 - math.cos(turn))) * height, 0.13 * short
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=(255, 214, 110, 235))
    for shape in scene.shapes:
        wobble = turn * shape.cycles + shape.phase
        cx = (shape.x + shape.dx * math.sin(wobble)) * width
        cy = (shape.y + shape.dy * math.cos(wobble)) * height
        radius = max(2.0, shape.size * short)
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        if shape.kind == "circle":
            draw.ellipse(box, fill=shape.color)
        elif shape.kind == "ring":
            draw.ellipse(box, outline=shape.color, width=max(1, round(radius * 0.18)))
        else:
            rotation = shape.rotation + shape.spin * t
            draw.regular_polygon((cx, cy, radius), shape.sides, rotation=rotation, fill=shape.color)
    if "ocean" in scene.themes:
        _draw_waves(scene, draw, width, height, turn)
    if "fox" in scene.themes:
        _draw_fox(scene, draw, width, height, turn)
    if "snow" in scene.themes:
        _draw_snow(scene, draw, width, height, turn)


def _draw_waves(scene: Scene, draw: ImageDraw.ImageDraw, width: int, height: int, turn: float) -> None:
    rng = scene.rng("waves")
    step = max(4, width // 64)
    line = max(1, height // 160)
    waves: list[list[tuple[float, float]]] = []
    for i in range(rng.randint(4, 6)):
        y0 = (0.58 + i * 0.07 + rng.uniform(-0.02, 0.02)) * height
        amplitude = rng.uniform(0.01, 0.025) * height
        wavelength = rng.uniform(0.18, 0.4) * width
        phase = rng.uniform(0, 2 * math.pi) + turn * (1 + i % 2) * (-1 if i % 2 else 1)
        waves.append(
            [
                (float(x), y0 + amplitude * math.sin(2 * math.pi * x / wavelength + phase))
                for x in range(0, width + step, step)
            ]
        )
    for i, points in enumerate(waves):
        below = waves[i + 1][::-1] if i + 1 < len(waves) else [(width, height), (0, height)]
        # Water stays blue even under a sunset sky; each band only down to the next wave, deeper = denser,
        # because blending full-height overlapping fills costs several ms a frame at 720p.
        r, g, b = rng.choice(THEME_PALETTES["ocean"].accents)
        draw.polygon([*points, *below], fill=(r, g, b, 80 + 30 * i))
    for points in waves:
        draw.line(points, fill=(230, 246, 255, 190), width=line)


def _draw_snow(scene: Scene, draw: ImageDraw.ImageDraw, width: int, height: int, turn: float) -> None:
    rng = scene.rng("snow")
    scale = min(width, height) / 400
    for _ in range(max(20, min(500, width * height // 3000))):
        x0, y0 = rng.random(), rng.random()
        radius = max(0.8, rng.uniform(0.6, 2.6) * scale)
        falls = 2 if radius > 1.8 * scale else 1  # near flakes fall faster; whole laps keep the loop
        y = (y0 + falls * turn / (2 * math.pi)) % 1.0 * height
        x = (x0 + 0.015 * math.sin(turn * falls + 10 * y0)) * width
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(255, 255, 255, 215))


def _draw_fox(scene: Scene, draw: ImageDraw.ImageDraw, width: int, height: int, turn: float) -> None:
    rng = scene.rng("fox")
    size = rng.uniform(0.22, 0.28) * min(width, height)
    cx = rng.uniform(0.35, 0.65) * width
    cy = rng.uniform(0.42, 0.52) * height + 0.03 * height * math.sin(turn)

    def at(points: Sequence[tuple[float, float]], mirror: bool = False) -> list[tuple[float, float]]:
        sign = -1.0 if mirror else 1.0
        return [(cx + sign * px * size, cy + py * size) for px, py in points]

    orange, dark, white = (232, 106, 22, 255), (52, 28, 18, 255), (255, 246, 236, 255)
    ear = [(-0.98, -0.3), (-0.72, -1.2), (-0.22, -0.6)]
    inner = [(-0.82, -0.42), (-0.7, -0.98), (-0.4, -0.58)]
    head = [(-1.05, -0.42), (-0.4, -0.62), (0.4, -0.62), (1.05, -0.42), (0.72, 0.2), (0.0, 1.0), (-0.72, 0.2)]
    cheek = [(-1.05, -0.42), (-0.2, 0.32), (0.0, 1.0), (-0.72, 0.2)]
    outline = max(1, round(size * 0.04))
    for mirror in (False, True):
        draw.polygon(at(ear, mirror), fill=orange, outline=dark, width=outline)
        draw.polygon(at(inner, mirror), fill=dark)
    draw.polygon(at(head), fill=orange, outline=dark, width=outline)
    for mirror in (False, True):
        draw.polygon(at(cheek, mirror), fill=white)
        ((ex, ey),) = at([(-0.36, -0.12)], mirror)
        eye = 0.075 * size
        draw.ellipse((ex - eye, ey - eye * 1.3, ex + eye, ey + eye * 1.3), fill=dark)
    nose = 0.1 * size
    draw.ellipse((cx - nose, cy + 0.88 * size - nose, cx + nose, cy + 0.88 * size + nose * 0.8), fill=dark)


def caption_font(height: int) -> tuple[Font, int]:
    band = max(12, round(height * 0.075))
    # A fresh font per render: FreeType faces must not be shared between threads.
    return ImageFont.load_default(size=max(8, round(band * 0.6))), band


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, room: float) -> str:
    if draw.textlength(text, font=font) <= room:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # the longest prefix that fits with an ellipsis
        mid = (lo + hi + 1) // 2
        if draw.textlength(text[:mid].rstrip() + "...", font=font) <= room:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "..."


def draw_caption(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: Font,
    band: int,
    width: int,
    height: int,
    progress: float | None = None,
) -> None:
    top = height - band
    draw.rectangle((0, top, width, height), fill=(0, 0, 0, 150))
    pad = max(3, band // 3)
    shown = _fit(draw, text, font, width - 2 * pad)
    draw.text((pad, top + band / 2), shown, font=font, fill=(255, 255, 255, 235), anchor="lm")
    if progress is not None:
        bar = max(2, band // 8)
        draw.rectangle((0, height - bar, round(width * progress), height), fill=(255, 255, 255, 200))


def to_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # compress_level 3 encodes these pictures almost twice as fast as the default 6 for ~30% more bytes.
    image.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def render_image(prompt: str, *, seed: int, width: int, height: int, index: int = 0) -> bytes:
    """PNG bytes of a picture drawn from the prompt: (prompt, seed, index) -> the same bytes every time."""
    check_image_size(width, height)
    scene = build_scene(prompt, seed, index)
    image = background(scene, width, height)
    draw = ImageDraw.Draw(image, "RGBA")
    draw_motion(scene, draw, width, height, 0.0)
    font, band = caption_font(height)
    draw_caption(draw, scene.caption, font, band, width, height)
    return to_png(image)
