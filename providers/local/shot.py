"""What the procedural preview renderer reads from a prompt: framing, light, setting, subjects.

A handful of keyword tables, nothing more. The point is that a contact sheet of previews reads
like the storyboard it came from: an "extreme close-up of a barometer at night" gets a dark,
tight frame on a dial, a "wide establishing shot at dawn" a small horizon under a pink sky.
Whatever the words leave open (framing, where things stand, the exact colours) the seed decides.
"""

from __future__ import annotations

import colorsys
import random
import re
from dataclasses import dataclass
from enum import StrEnum

RGB = tuple[int, int, int]


class Framing(StrEnum):
    """How close the camera is, from the prompt's shot-size words."""

    WIDE = "wide"
    MEDIUM = "medium"
    CLOSE = "close-up"
    EXTREME = "extreme close-up"


class Light(StrEnum):
    """Time of day, from the prompt's light words."""

    DAY = "day"
    DAWN = "dawn"
    DUSK = "dusk"
    NIGHT = "night"


class Angle(StrEnum):
    """Camera height, from "low angle" / "high angle" words: where the horizon sits."""

    EYE = "eye level"
    LOW = "low angle"
    HIGH = "high angle"


class Motif(StrEnum):
    """Things the preview knows how to draw as simple silhouettes."""

    PERSON = "person"
    TOWER = "tower"
    BOAT = "boat"
    DIAL = "dial"
    PAGE = "page"
    LAMP = "lamp"
    TREE = "tree"
    BUILDING = "building"


# Phrase patterns per framing. The earliest phrase in the prompt wins: a creator's own words
# come before a project style appended after them ("..., anamorphic lens").
_FRAMING_PATTERNS: tuple[tuple[Framing, str], ...] = (
    (Framing.EXTREME, r"extreme(?:ly)?[ -]close[ -]?ups?|macro|ecu|detail shot"),
    (Framing.CLOSE, r"close[ -]?ups?|closeup|portrait|headshot|head and shoulders"),
    (Framing.MEDIUM, r"medium(?: shot)?|mid[ -]shot|two[ -]shot|waist[ -]up|cowboy shot"),
    (Framing.WIDE, r"wide|establishing|long shot|panoram\w*|aerial|landscape|vista|bird'?s[ -]eye"),
)
_LIGHT_WORDS: dict[str, Light] = {
    "night": Light.NIGHT,
    "nights": Light.NIGHT,
    "midnight": Light.NIGHT,
    "moon": Light.NIGHT,
    "moonlight": Light.NIGHT,
    "moonlit": Light.NIGHT,
    "dark": Light.NIGHT,
    "darkness": Light.NIGHT,
    "stars": Light.NIGHT,
    "starry": Light.NIGHT,
    "nocturnal": Light.NIGHT,
    "dusk": Light.DUSK,
    "sunset": Light.DUSK,
    "evening": Light.DUSK,
    "twilight": Light.DUSK,
    "sundown": Light.DUSK,
    "dawn": Light.DAWN,
    "sunrise": Light.DAWN,
    "morning": Light.DAWN,
    "daybreak": Light.DAWN,
    "noon": Light.DAY,
    "daylight": Light.DAY,
    "sunny": Light.DAY,
    "afternoon": Light.DAY,
}
# light -> (sky top, sky bottom, ground, accent)
_LIGHT_PALETTES: dict[Light, tuple[RGB, RGB, RGB, RGB]] = {
    Light.DAY: ((80, 140, 215), (190, 220, 240), (95, 125, 90), (255, 248, 215)),
    Light.DAWN: ((110, 120, 185), (250, 185, 160), (85, 85, 95), (255, 225, 150)),
    Light.DUSK: ((60, 40, 100), (245, 130, 70), (55, 35, 45), (255, 200, 90)),
    Light.NIGHT: ((5, 8, 28), (28, 38, 82), (8, 12, 24), (235, 235, 210)),
}
# Subject and place words -> (sky top, sky bottom, ground, accent); mixed into the light's palette.
_THEMES: dict[str, tuple[RGB, RGB, RGB, RGB]] = {
    "forest": ((110, 170, 150), (200, 225, 180), (30, 80, 40), (240, 240, 200)),
    "desert": ((120, 180, 230), (240, 215, 170), (200, 160, 100), (255, 240, 200)),
    "ocean": ((40, 110, 180), (150, 210, 230), (30, 70, 120), (255, 250, 220)),
    "snow": ((170, 200, 230), (235, 240, 250), (225, 230, 240), (255, 255, 255)),
    "city": ((30, 20, 60), (200, 60, 140), (30, 30, 40), (0, 230, 230)),
    "fire": ((40, 10, 10), (200, 60, 20), (30, 10, 10), (255, 180, 40)),
    "storm": ((60, 70, 80), (130, 140, 145), (40, 45, 50), (200, 205, 210)),
    "space": ((5, 0, 20), (50, 20, 80), (15, 10, 25), (250, 250, 255)),
    "autumn": ((150, 170, 200), (240, 200, 150), (150, 70, 30), (250, 220, 150)),
    "spring": ((150, 200, 240), (230, 240, 220), (90, 160, 70), (250, 150, 200)),
    "warm": ((120, 75, 40), (225, 160, 95), (70, 45, 30), (255, 215, 140)),
}
_THEME_WORDS = {
    "woods": "forest",
    "jungle": "forest",
    "tree": "forest",
    "forest": "forest",
    "sand": "desert",
    "dune": "desert",
    "desert": "desert",
    "sea": "ocean",
    "ocean": "ocean",
    "beach": "ocean",
    "water": "ocean",
    "harbour": "ocean",
    "harbor": "ocean",
    "wave": "ocean",
    "winter": "snow",
    "snow": "snow",
    "ice": "snow",
    "arctic": "snow",
    "urban": "city",
    "street": "city",
    "neon": "city",
    "city": "city",
    "volcano": "fire",
    "lava": "fire",
    "fire": "fire",
    "flame": "fire",
    "rain": "storm",
    "storm": "storm",
    "fog": "storm",
    "mist": "storm",
    "galaxy": "space",
    "space": "space",
    "cosmic": "space",
    "autumn": "autumn",
    "fall": "autumn",
    "garden": "spring",
    "flower": "spring",
    "spring": "spring",
    "lamp": "warm",
    "candle": "warm",
    "cosy": "warm",
    "cozy": "warm",
    "fireplace": "warm",
    "golden": "warm",
}
_MOTIF_WORDS: dict[str, Motif] = {
    **dict.fromkeys(
        (
            "keeper",
            "girl",
            "boy",
            "man",
            "woman",
            "child",
            "person",
            "people",
            "villager",
            "figure",
            "fisherman",
            "sailor",
            "king",
            "queen",
            "knight",
            "soldier",
            "detective",
            "face",
            "she",
            "he",
            "villain",
            "hero",
            "couple",
            "crowd",
            "family",
            "stranger",
            "fishermen",
            "sailors",
            "villagers",
        ),
        Motif.PERSON,
    ),
    **dict.fromkeys(("lighthouse", "tower", "castle", "spire", "church", "windmill"), Motif.TOWER),
    **dict.fromkeys(("boat", "ship", "vessel", "yacht", "sailboat", "ferry", "trawler"), Motif.BOAT),
    **dict.fromkeys(
        ("barometer", "clock", "compass", "gauge", "watch", "eye", "wheel", "dial", "coin", "mechanism", "clockwork"),
        Motif.DIAL,
    ),
    **dict.fromkeys(
        (
            "logbook",
            "book",
            "letter",
            "map",
            "page",
            "notebook",
            "journal",
            "note",
            "newspaper",
            "photograph",
            "scroll",
        ),
        Motif.PAGE,
    ),
    **dict.fromkeys(("lamp", "lantern", "candle", "torch", "torches", "beam", "fire", "flame"), Motif.LAMP),
    **dict.fromkeys(("tree", "trees", "forest", "woods", "jungle"), Motif.TREE),
    **dict.fromkeys(
        ("city", "village", "house", "houses", "building", "skyline", "street", "quay", "harbour", "harbor"),
        Motif.BUILDING,
    ),
}
_ANGLES = (
    (Angle.LOW, r"low[ -]angle|worm'?s[ -]eye|looking up"),
    (Angle.HIGH, r"high[ -]angle|bird'?s[ -]eye|overhead|top[ -]down|looking down|aerial"),
)
# Words in quotes ("the words 'wind rising'") are written on the page or dial in the picture. A
# quote must open after a space and close before one, so "keeper's" opens nothing.
_QUOTED = re.compile(r"(?<!\w)['\"\u2018\u201c]([^'\"\u2019\u201d]{1,40})['\"\u2019\u201d](?!\w)")
_INTERIOR = {
    "inside",
    "interior",
    "indoor",
    "indoors",
    "room",
    "kitchen",
    "cabin",
    "hall",
    "bedroom",
    "office",
    "studio",
    "bar",
    "cafe",
    "library",
    "corridor",
}
_WATER = {"sea", "ocean", "waves", "wave", "harbour", "harbor", "bay", "lake", "river", "beach", "shore", "coast"}
_PLURAL_PEOPLE = {"people", "villagers", "crowd", "family", "fishermen", "sailors"}


@dataclass(frozen=True)
class Shot:
    """One preview frame's plan, read from the prompt and the seed.

    Attributes:
        framing: Shot size; from the prompt, or the seed's pick when the prompt names none.
        light: Time of day.
        angle: Camera height.
        interior: Whether the scene is indoors.
        water: Whether the ground is water.
        motifs: Things to draw, in the order the prompt names them.
        people: How many figures to draw (0 when no person is named).
        rain: Rain streaks across the frame.
        rough: Heavy seas (a storm, huge waves).
        birds: A few birds in the sky.
        palette: Sky top, sky bottom, ground and accent colours.
        quoted: Words the prompt puts in quotes, to write on a page or dial.
        mood: The seed's own number in 0..1 that nudges composition (left or right, high or low).
    """

    framing: Framing
    light: Light
    angle: Angle
    interior: bool
    water: bool
    motifs: tuple[Motif, ...]
    people: int
    rain: bool
    rough: bool
    birds: bool
    palette: tuple[RGB, RGB, RGB, RGB]
    quoted: tuple[str, ...]
    mood: float


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 and not word.endswith("ss") else word


def _framing(prompt: str) -> Framing | None:
    text = prompt.lower()
    found = [
        (m.start(), framing)
        for framing, pattern in _FRAMING_PATTERNS
        for m in [re.search(rf"\b(?:{pattern})\b", text)]
        if m
    ]
    # An extreme close-up also matches "close-up" at a later offset: the earliest start wins,
    # and on a tie the table's order (tighter first) does.
    return min(found, key=lambda f: f[0])[1] if found else None


def _light(words: list[str], banned: set[str]) -> Light:
    for word in words:
        light = _LIGHT_WORDS.get(word)
        if light is not None and word not in banned:
            return light
    return Light.DAY


def _average(colours: list[RGB]) -> RGB:
    n = len(colours)
    return (sum(c[0] for c in colours) // n, sum(c[1] for c in colours) // n, sum(c[2] for c in colours) // n)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _palette(rng: random.Random, light: Light, themes: list[str]) -> tuple[RGB, RGB, RGB, RGB]:
    hue = rng.random()

    def hsv(h: float, s: float, v: float) -> RGB:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return (round(r * 255), round(g * 255), round(b * 255))

    # The seed's mood: its own hues, mixed in at a strength of its choosing, so two seeds of one
    # prompt are cousins rather than twins.
    mood = (
        hsv(hue, rng.uniform(0.4, 0.8), rng.uniform(0.35, 0.7)),
        hsv(hue + rng.uniform(0.05, 0.25), rng.uniform(0.2, 0.5), rng.uniform(0.8, 1.0)),
        hsv(hue + 0.5, rng.uniform(0.3, 0.6), rng.uniform(0.2, 0.45)),
        hsv(hue + rng.uniform(0.4, 0.6), 0.3, 1.0),
    )
    base = _LIGHT_PALETTES[light]
    if themes:
        picks = [_THEMES[t] for t in themes]
        theme = [_average([p[i] for p in picks]) for i in range(4)]
        # Night stays night whatever the subject: the theme only tints it.
        weight = 0.2 if light is Light.NIGHT else 0.5
        tinted = [_mix(base[i], theme[i], weight) for i in range(4)]
        base = (tinted[0], tinted[1], tinted[2], tinted[3])
    seedy = rng.uniform(0.25, 0.45) if light is not Light.NIGHT else rng.uniform(0.05, 0.12)
    out = [_mix(base[i], mood[i], seedy) for i in range(3)]
    return (out[0], out[1], out[2], _mix(base[3], mood[3], 0.2))


def read_shot(prompt: str, negative: str, rng: random.Random) -> Shot:
    """Plan one preview frame from the prompt, drawing the rest from ``rng``.

    A word in ``negative`` cancels the same word in the prompt (a negative "night" gives day).
    """
    banned = set(_words(negative)) | {_singular(w) for w in _words(negative)}
    words = [w for w in _words(prompt) if w not in banned and _singular(w) not in banned]
    themes = sorted({_THEME_WORDS[t] for w in words for t in (w, _singular(w)) if t in _THEME_WORDS})
    light = _light(words, banned)
    palette = _palette(rng, light, themes)
    motifs: list[Motif] = []
    for w in words:
        motif = _MOTIF_WORDS.get(w) or _MOTIF_WORDS.get(_singular(w))
        if motif is not None and motif not in motifs:
            motifs.append(motif)
    named_people = {w for w in words if _MOTIF_WORDS.get(w) is Motif.PERSON and w not in {"she", "he", "face"}}
    people = 0
    if Motif.PERSON in motifs:
        people = 4 if _PLURAL_PEOPLE & set(words) else min(3, max(1, len(named_people)))
    framing = _framing(prompt)
    angle = next((a for a, pattern in _ANGLES if re.search(rf"\b(?:{pattern})\b", prompt.lower())), Angle.EYE)
    if framing is None:  # the seed frames it, leaning on what is in the picture
        tight = 0.75 if people or Motif.DIAL in motifs or Motif.PAGE in motifs else 0.25
        if angle is Angle.LOW and people:
            tight = 1.0  # a hero shot from below: the figures loom, they are not specks
        framing = Framing.MEDIUM if rng.random() < tight else Framing.WIDE
    word_set = set(words)
    return Shot(
        framing=framing,
        light=light,
        angle=angle,
        interior=bool(_INTERIOR & word_set),
        water=bool(_WATER & word_set),
        motifs=tuple(motifs),
        people=people,
        rain=bool({"rain", "raining", "rainy", "downpour", "storm"} & word_set),
        rough=bool(
            {"storm", "stormy", "huge", "enormous", "crashing", "tossed", "gale", "tempest", "rough"} & word_set
        ),
        birds=bool({"gull", "gulls", "birds", "bird", "seagulls", "crows"} & word_set),
        palette=palette,
        quoted=tuple(q.strip() for q in _QUOTED.findall(prompt) if q.strip()),
        mood=rng.random(),
    )


__all__ = ["RGB", "Angle", "Framing", "Light", "Motif", "Shot", "read_shot"]
