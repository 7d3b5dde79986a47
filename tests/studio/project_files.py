"""Writing project files for tests: TOML text from Python values, and sketches of every kind."""

from __future__ import annotations

import datetime as dt
import math
import struct
import zlib
from pathlib import Path
from typing import Any

from PIL import Image


class Raw(str):
    """A TOML value written as is: a 5,000-digit integer, ``inf``, a deeply nested array."""


def toml_value(value: Any) -> str:
    """One value as TOML (strings escaped so any character survives the trip)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        out = []
        for char in value:
            if char in '"\\':
                out.append("\\" + char)
            elif ord(char) < 0x20 or ord(char) == 0x7F:  # TOML wants these escaped, NUL included
                out.append(f"\\u{ord(char):04x}")
            else:
                out.append(char)
        return '"' + "".join(out) + '"'
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_text(data: dict[str, Any]) -> str:
    """A whole document: top-level keys first, then tables, then ``[[shots]]``-style arrays of tables."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in data.items():
        if isinstance(value, dict) and not isinstance(value, Raw):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            arrays.append((key, value))
        else:
            lines.append(f"{toml_value(str(key))} = {toml_value(value)}")
    for key, table in tables:
        lines.append(f"[{toml_value(str(key))}]")
        lines.extend(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in table.items())
    for key, items in arrays:
        for item in items:
            lines.append(f"[[{toml_value(str(key))}]]")
            lines.extend(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in item.items())
    return "\n".join(lines) + "\n"


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels, with almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def write_sketches(folder: Path) -> dict[str, Path]:
    """A sketches/ folder: a good sketch, a corrupt one and two whose headers claim too many pixels."""
    sketches = folder / "sketches"
    sketches.mkdir(parents=True, exist_ok=True)
    Image.new("L", (32, 32), 200).save(sketches / "ok.png")
    (sketches / "corrupt.png").write_bytes(b"\x89PNG not really")
    (sketches / "bomb.png").write_bytes(png_claiming(30000, 30000))  # past Pillow's own limit
    (sketches / "big.png").write_bytes(png_claiming(10000, 10000))  # past the studio's 50 MP only
    return {path.stem: path for path in sketches.iterdir()}
