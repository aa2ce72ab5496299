"""Print files and thumbnails as a Prusa printer stores them.

`build_bgcode` writes a real binary G-code file (libbgcode format version 1, CRC32
block checksums: file, printer, print and slicer metadata blocks, two PNG thumbnails
and a deflated G-code block), `build_gcode` a plain-text G-code file with PrusaSlicer's
trailing config comments. Both carry `filament_type`, which is the only place the
MK4 firmware exposes the material of a job (`/api/v1/job` has no `file.meta`).
"""

from __future__ import annotations

from dataclasses import dataclass
import io
import random
import re
import struct
import zlib

from PIL import Image, ImageDraw

BGCODE_MAGIC = b"GCDE"
BGCODE_VERSION = 1
CHECKSUM_CRC32 = 1

BLOCK_FILE_METADATA = 0
BLOCK_GCODE = 1
BLOCK_SLICER_METADATA = 2
BLOCK_PRINTER_METADATA = 3
BLOCK_PRINT_METADATA = 4
BLOCK_THUMBNAIL = 5

COMPRESSION_NONE = 0
COMPRESSION_DEFLATE = 1
ENCODING_INI = 0
ENCODING_GCODE_NONE = 0
THUMBNAIL_PNG = 0

ICON_SIZE = (16, 16)
THUMBNAIL_SIZE = (313, 173)
"""The MK4's large thumbnail, as PrusaSlicer's MK4 profiles request it."""

# Nozzle and bed temperatures of PrusaSlicer's Prusament/generic MK4 profiles.
MATERIAL_TEMPERATURES: dict[str, tuple[float, float]] = {
    "PLA": (215.0, 60.0),
    "PETG": (240.0, 85.0),
    "ASA": (260.0, 105.0),
    "ABS": (255.0, 105.0),
    "PC": (275.0, 110.0),
    "PA": (285.0, 100.0),
    "PVB": (215.0, 75.0),
    "HIPS": (230.0, 100.0),
    "PP": (240.0, 100.0),
    "FLEX": (240.0, 50.0),
}
DEFAULT_TEMPERATURES = MATERIAL_TEMPERATURES["PLA"]


def material_temperatures(material: str) -> tuple[float, float]:
    """Return (nozzle, bed) target temperatures for a filament type."""
    return MATERIAL_TEMPERATURES.get(material.upper(), DEFAULT_TEMPERATURES)


@dataclass(frozen=True, kw_only=True)
class PrintFileSpec:
    """What a sliced print file describes."""

    display_name: str
    material: str
    duration: int
    """Estimated printing time (normal mode), seconds."""
    printer_model: str = "MK4S"
    nozzle_diameter: float = 0.4
    layer_height: float = 0.2
    max_layer_z: float = 48.0
    filament_used_g: float = 21.37
    size: int = 0
    """Pad the G-code to make the file about this many bytes (0: keep it small).

    A real two-hour MK4S `.bgcode` is 1-3 MB; clients like pyprusalink download
    all of it to read the metadata, so benchmarks want the real weight.
    """


def short_name(display_name: str) -> str:
    """Return the FAT 8.3 alias the printer's USB stick gives a long file name."""
    stem, dot, ext = display_name.rpartition(".")
    if not dot:
        stem, ext = display_name, ""
    basis = re.sub(r"[^A-Z0-9_]", "", stem.upper())[:6] or "FILE"
    ext = re.sub(r"[^A-Z0-9_]", "", ext.upper())[:3]
    return f"{basis}~1.{ext}" if ext else f"{basis}~1"


def format_duration(seconds: int) -> str:
    """Format seconds the way PrusaSlicer writes estimated times (`2h 10m 0s`)."""
    days, rest = divmod(max(0, seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days}d")
    if days or hours:
        parts.append(f"{hours}h")
    if days or hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{secs}s")
    return " ".join(parts)


def render_thumbnail(size: tuple[int, int], material: str = "PLA") -> bytes:
    """Render a PNG preview of a little boat, like a slicer thumbnail."""
    width, height = size
    img = Image.new("RGB", size, (44, 44, 44))
    draw = ImageDraw.Draw(img)
    colour = (250, 104, 49) if material.upper() != "PETG" else (60, 140, 220)
    hull = [
        (width * 0.15, height * 0.55),
        (width * 0.85, height * 0.55),
        (width * 0.72, height * 0.85),
        (width * 0.25, height * 0.85),
    ]
    draw.polygon(hull, fill=colour)
    draw.rectangle(
        (width * 0.38, height * 0.25, width * 0.62, height * 0.55), fill=colour
    )
    draw.rectangle(
        (width * 0.55, height * 0.12, width * 0.62, height * 0.25), fill=colour
    )
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _ini(pairs: list[tuple[str, str]]) -> bytes:
    return "".join(f"{key}={value}\n" for key, value in pairs).encode()


def _block(
    block_type: int,
    data: bytes,
    params: bytes,
    *,
    compress: bool = False,
) -> bytes:
    if compress:
        payload = zlib.compress(data)
        header = struct.pack(
            "<HHII", block_type, COMPRESSION_DEFLATE, len(data), len(payload)
        )
    else:
        payload = data
        header = struct.pack("<HHI", block_type, COMPRESSION_NONE, len(data))
    body = header + params + payload
    return body + struct.pack("<I", zlib.crc32(body))


def _metadata_pairs(spec: PrintFileSpec) -> dict[str, list[tuple[str, str]]]:
    nozzle, bed = material_temperatures(spec.material)
    estimate = format_duration(spec.duration)
    silent = format_duration(round(spec.duration * 1.04))
    used_mm = round(spec.filament_used_g / 1.24 / 2.405 * 1000, 2)
    used_cm3 = round(spec.filament_used_g / 1.24, 2)
    common = [
        ("filament used [mm]", f"{used_mm:.2f}"),
        ("filament used [cm3]", f"{used_cm3:.2f}"),
        ("filament used [g]", f"{spec.filament_used_g:.2f}"),
        ("filament cost", f"{spec.filament_used_g * 0.025:.2f}"),
        ("estimated printing time (normal mode)", estimate),
    ]
    return {
        "file": [("Producer", "PrusaSlicer 2.9.2")],
        "printer": [
            ("printer_model", spec.printer_model),
            ("filament_type", spec.material),
            ("nozzle_diameter", f"{spec.nozzle_diameter}"),
            ("bed_temperature", f"{bed:.0f}"),
            ("brim_width", "0"),
            ("fill_density", "15%"),
            ("layer_height", f"{spec.layer_height}"),
            ("temperature", f"{nozzle:.0f}"),
            ("ironing", "0"),
            ("support_material", "0"),
            ("max_layer_z", f"{spec.max_layer_z:.2f}"),
            ("extruder_colour", '""'),
            *common,
            ("estimated printing time (silent mode)", silent),
        ],
        "print": [
            *common,
            ("estimated first layer printing time (normal mode)", "2m 31s"),
        ],
        "slicer": [
            ("bed_temperature", f"{bed:.0f}"),
            ("filament_settings_id", f'"Prusament {spec.material} @PG 0.4"'),
            ("filament_type", spec.material),
            ("first_layer_temperature", f"{nozzle:.0f}"),
            ("layer_height", f"{spec.layer_height}"),
            ("nozzle_diameter", f"{spec.nozzle_diameter}"),
            ("print_settings_id", '"0.20mm SPEED @MK4S 0.4"'),
            ("printer_model", spec.printer_model),
            ("temperature", f"{nozzle:.0f}"),
        ],
    }


def _gcode_body(spec: PrintFileSpec) -> str:
    nozzle, bed = material_temperatures(spec.material)
    lines = [
        "M17 ; enable steppers",
        f'M862.3 P "{spec.printer_model}" ; printer model check',
        f"M862.1 P{spec.nozzle_diameter} ; nozzle diameter check",
        "M115 U6.5.3+12648",
        f"M73 P0 R{spec.duration // 60}",
        f"M140 S{bed:.0f} ; set bed temp",
        "M104 T0 S170 ; set extruder temp for bed leveling",
        f"M190 S{bed:.0f} ; wait for bed temp",
        "G28 ; home all without mesh bed level",
        "G29 ; mesh bed leveling",
        f"M109 T0 S{nozzle:.0f} ; wait for extruder temp",
        "G1 Z0.2 F720",
        "G1 X10.5 Y-4 E8 F875",
    ]
    z = spec.layer_height
    while z <= 1.0 + 1e-9:
        lines.append(f";LAYER_CHANGE\n;Z:{z:.1f}\nG1 Z{z:.1f} F720")
        lines.extend(
            f"G1 X{100 + i % 20:.3f} Y{100 + i // 20:.3f} E.04217" for i in range(40)
        )
        z += spec.layer_height
    lines.append("M107 ; fan off\nM104 S0 ; hotend off\nM140 S0 ; bed off")
    return "\n".join(lines) + "\n"


def _filler(size: int) -> str:
    """Return about `size` bytes of extrusion moves (deterministic, not compressible)."""
    rng = random.Random(size)
    lines: list[str] = []
    total = 0
    while total < size:
        line = (
            f"G1 X{rng.uniform(90, 160):.3f} Y{rng.uniform(90, 160):.3f}"
            f" E{rng.uniform(0.01, 0.9):.5f}\n"
        )
        lines.append(line)
        total += len(line)
    return "".join(lines)


def build_bgcode(spec: PrintFileSpec) -> bytes:
    """Return a binary G-code file as PrusaSlicer writes it for an MK4S."""
    pairs = _metadata_pairs(spec)
    ini = struct.pack("<H", ENCODING_INI)
    parts = [
        BGCODE_MAGIC + struct.pack("<IH", BGCODE_VERSION, CHECKSUM_CRC32),
        _block(BLOCK_FILE_METADATA, _ini(pairs["file"]), ini),
        _block(BLOCK_PRINTER_METADATA, _ini(pairs["printer"]), ini),
    ]
    for size in (ICON_SIZE, THUMBNAIL_SIZE):
        params = struct.pack("<HHH", THUMBNAIL_PNG, *size)
        parts.append(
            _block(BLOCK_THUMBNAIL, render_thumbnail(size, spec.material), params)
        )
    gcode = _gcode_body(spec).encode()
    missing = spec.size - sum(len(p) for p in parts) - len(gcode) - 1024
    parts += [
        _block(BLOCK_PRINT_METADATA, _ini(pairs["print"]), ini),
        _block(BLOCK_SLICER_METADATA, _ini(pairs["slicer"]), ini, compress=True),
        _block(
            BLOCK_GCODE,
            gcode,
            struct.pack("<H", ENCODING_GCODE_NONE),
            compress=missing <= 0,
        ),
    ]
    if missing > 0:
        parts.append(
            _block(
                BLOCK_GCODE,
                _filler(missing).encode(),
                struct.pack("<H", ENCODING_GCODE_NONE),
            )
        )
    return b"".join(parts)


def build_gcode(spec: PrintFileSpec) -> bytes:
    """Return a text G-code file with PrusaSlicer's header and trailing config."""
    pairs = _metadata_pairs(spec)
    head = [
        "; generated by PrusaSlicer 2.9.2+linux-x64-GTK3 on 2026-01-01 at 10:00:00 UTC",
        "",
        "; external perimeters extrusion width = 0.45mm",
        "",
    ]
    tail = ["", *(f"; {k} = {v}" for k, v in pairs["print"])]
    tail += ["", "; prusaslicer_config = begin"]
    tail += [f"; {k} = {v}" for k, v in sorted(pairs["slicer"])]
    tail += ["; prusaslicer_config = end", ""]
    body = _gcode_body(spec)
    body += _filler(spec.size - len(body) - 2048) if spec.size else ""
    return ("\n".join(head) + body + "\n".join(tail)).encode()


def build_print_file(spec: PrintFileSpec) -> bytes:
    """Return the print file for `spec`, binary or text by its file name."""
    if spec.display_name.lower().endswith(".bgcode"):
        return build_bgcode(spec)
    return build_gcode(spec)
