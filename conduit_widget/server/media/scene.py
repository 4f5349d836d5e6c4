"""The scene of a local Conduit picture: everything a frame needs, decided once from a hash of the prompt.

A hash of ``(prompt, seed, index)`` picks the palette and the layout; a few keywords (sunset, ocean, forest, snow,
night, fox) pick palettes and motifs a person recognises, so different prompts look different at a glance.
`drawing` paints what is decided here.
"""

from __future__ import annotations

import colorsys
import hashlib
import math
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]
Theme = Literal["sunset", "ocean", "forest", "snow", "night", "fox"]


@dataclass(frozen=True)
class _Palette:
    top: RGB
    bottom: RGB
    accents: tuple[RGB, ...]


THEME_PALETTES: Final[dict[Theme, _Palette]] = {
    "sunset": _Palette((58, 24, 96), (255, 140, 48), ((255, 94, 58), (255, 196, 84), (204, 64, 110), (132, 42, 146))),
    "ocean": _Palette((8, 42, 96), (36, 150, 210), ((0, 119, 190), (72, 202, 228), (150, 226, 242), (16, 70, 150))),
    "forest": _Palette((176, 214, 160), (22, 78, 42), ((34, 139, 34), (96, 168, 72), (18, 92, 54), (160, 196, 92))),
    "snow": _Palette(
        (190, 218, 242), (246, 250, 255), ((255, 255, 255), (178, 208, 236), (146, 186, 226), (222, 238, 250))
    ),
    "night": _Palette((4, 6, 28), (26, 38, 96), ((40, 62, 150), (96, 72, 168), (196, 200, 255), (255, 236, 190))),
    "fox": _Palette((255, 196, 126), (206, 92, 26), ((236, 112, 24), (255, 164, 64), (255, 236, 214), (150, 64, 20))),
}

_THEME_WORDS: Final[dict[Theme, tuple[str, ...]]] = {
    "sunset": ("sunset", "sunsets", "sunrise", "dusk", "fire", "fires", "flame", "flames", "blaze", "lava"),
    "ocean": ("ocean", "oceans", "sea", "seas", "water", "waters", "wave", "waves", "underwater", "beach"),
    "forest": ("forest", "forests", "tree", "trees", "woods", "woodland", "jungle", "pine", "pines"),
    "snow": ("snow", "snowy", "ice", "icy", "winter", "frost", "frosty", "frozen", "glacier"),
    "night": ("night", "nights", "space", "star", "stars", "starry", "galaxy", "cosmos", "moon"),
    "fox": ("fox", "foxes"),
}
_KEYWORDS: Final[dict[str, Theme]] = {word: theme for theme, words in _THEME_WORDS.items() for word in words}

# A subject never paints the sky: "a fox in the snow" should look like snow with a fox in it.
_SUBJECT_THEMES: Final[frozenset[Theme]] = frozenset({"fox"})


_ShapeKind = Literal["circle", "ring", "polygon"]
_SHAPE_KINDS: Final[tuple[_ShapeKind, ...]] = ("circle", "ring", "polygon")


@dataclass(frozen=True)
class _Shape:
    kind: _ShapeKind
    x: float  # centre, as fractions of the frame
    y: float
    size: float  # radius, as a fraction of the shorter side
    sides: int
    rotation: float  # degrees
    spin: float  # degrees per clip
    color: RGBA
    dx: float  # drift amplitude, fractions of the frame
    dy: float
    cycles: int  # whole cycles per clip, so a clip loops without a jump
    phase: float


@dataclass(frozen=True)
class Scene:
    key: bytes
    themes: tuple[Theme, ...]
    palette: _Palette
    angle: float  # gradient tilt in degrees
    shapes: tuple[_Shape, ...]
    caption: str

    def rng(self, label: str) -> random.Random:
        """A generator private to one motif, so adding a motif never reshuffles the others."""
        return random.Random(self.key + label.encode())


def _themes_of(prompt: str) -> tuple[Theme, ...]:
    found: list[Theme] = []
    for word in re.findall(r"[a-z]+", prompt.lower()):
        theme = _KEYWORDS.get(word)
        if theme is not None and theme not in found:
            found.append(theme)
    return tuple(found)


def _jitter(rng: random.Random, color: RGB, amount: int) -> RGB:
    r, g, b = (min(255, max(0, c + rng.randint(-amount, amount))) for c in color)
    return (r, g, b)


def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (round(r * 255), round(g * 255), round(b * 255))


def _palette_for(themes: Sequence[Theme], rng: random.Random) -> _Palette:
    if not themes:
        hue = rng.random()
        spread = rng.choice((0.08, 0.12, 0.5, 0.33))  # analogous, wider, complementary, triadic
        hues = [hue, hue + spread, hue - spread, hue + spread / 2, hue + 0.5]
        accents = tuple(_hsv(h, rng.uniform(0.45, 0.9), rng.uniform(0.55, 1.0)) for h in hues)
        return _Palette(_hsv(hue, 0.55, 0.3), _hsv(hue + spread / 3, 0.5, 0.85), accents)
    scenery = [t for t in themes if t not in _SUBJECT_THEMES] or list(themes)
    base = THEME_PALETTES[scenery[0]]
    accents = tuple(c for t in themes for c in THEME_PALETTES[t].accents)
    # Small jitter: seeds should differ, but "ocean" must stay blue.
    return _Palette(
        _jitter(rng, base.top, 10),
        _jitter(rng, base.bottom, 10),
        tuple(_jitter(rng, c, 14) for c in accents),
    )


def build_scene(prompt: str, seed: int, index: int) -> Scene:
    key = hashlib.sha256(f"{len(prompt)}:{prompt}\x00{seed}\x00{index}".encode("utf-8", "surrogatepass")).digest()
    rng = random.Random(key)
    themes = _themes_of(prompt)
    palette = _palette_for(themes, rng)
    angle = rng.uniform(-35.0, 35.0)
    shapes: list[_Shape] = []
    for _ in range(rng.randint(7, 12)):
        kind = rng.choices(_SHAPE_KINDS, weights=(4, 2, 4))[0]
        sides = rng.randint(3, 6)
        r, g, b = rng.choice(palette.accents)
        shapes.append(
            _Shape(
                kind=kind,
                x=rng.uniform(0.05, 0.95),
                y=rng.uniform(0.05, 0.85),
                size=rng.uniform(0.04, 0.2),
                sides=sides,
                rotation=rng.uniform(0.0, 360.0),
                # One step of the polygon's symmetry per clip: the last frame leads into the first.
                spin=rng.choice((-1, 1)) * 360 / sides,
                color=(r, g, b, rng.randint(110, 210)),
                dx=rng.uniform(0.02, 0.12),
                dy=rng.uniform(0.02, 0.1),
                cycles=rng.randint(1, 2),
                phase=rng.uniform(0.0, 2 * math.pi),
            )
        )
    return Scene(key, themes, palette, angle, tuple(shapes), _caption_text(prompt))


def _caption_text(prompt: str) -> str:
    # Pillow's default font covers little beyond ASCII; strip accents, then replace what is left over,
    # so a caption never shows boxes.
    flat = unicodedata.normalize("NFKD", " ".join(prompt.split()))
    flat = "".join(c for c in flat if not unicodedata.combining(c))
    return "".join(c if " " <= c <= "~" else "?" for c in flat)
