"""Fragmented MP4 (ISO/IEC 14496-12) for one AAC audio track, written by hand.

FFmpeg's muxers write whole fragments on their own schedule; LL-HLS needs us to cut a
fragment exactly when a part is due, so the few boxes involved are built here. Every box
matches the CMAF/HLS fMP4 shape: an init segment (``ftyp`` + ``moov`` with empty sample
tables and ``mvex``) and media fragments (``moof`` + ``mdat``) whose ``tfdt`` places them on
the track timeline. The timescale is the sample rate, so times are sample counts.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence

TRACK_ID = 1
AAC_FRAME_SAMPLES = 1024

#: sample_depends_on = 2: every AAC access unit decodes on its own (a sync sample).
_INDEPENDENT_SAMPLE_FLAGS = 0x0200_0000
_UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000)
_LANGUAGE_UND = 0x55C4  # ISO 639-2 "und", three 5-bit letters

_TFHD_DEFAULT_DURATION = 0x00_0008
_TFHD_DEFAULT_FLAGS = 0x00_0020
_TFHD_DEFAULT_BASE_IS_MOOF = 0x02_0000
_TRUN_DATA_OFFSET = 0x00_0001
_TRUN_SAMPLE_SIZE = 0x00_0200


def box(kind: bytes, *payload: bytes) -> bytes:
    """A plain box: 32-bit size, four-character type, payload."""
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    """A box with the version byte and 24-bit flags of a FullBox."""
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def init_segment(asc: bytes, sample_rate: int, channels: int) -> bytes:
    """The Media Initialization Section (``EXT-X-MAP``) for one AAC track."""
    ftyp = box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6", b"mp41")
    return ftyp + box(b"moov", _mvhd(sample_rate), _trak(asc, sample_rate, channels), _mvex())


def fragment(
    sequence: int,
    base_time: int,
    frames: Sequence[bytes],
    frame_duration: int = AAC_FRAME_SAMPLES,
) -> bytes:
    """One ``moof`` + ``mdat`` holding ``frames`` (raw AAC access units) back to back.

    ``sequence`` is the mfhd sequence number (1, 2, ... per fragment of the track);
    ``base_time`` is the decode time of the first frame in timescale units (samples).
    """
    if not frames:
        raise ValueError("a fragment needs at least one frame")
    sizes = [len(frame) for frame in frames]
    # The trun's data offset counts from the start of the moof to the first sample byte, which
    # depends on the moof's own size: build it once to measure, then with the real offset.
    moof_size = len(_moof(sequence, base_time, sizes, frame_duration, 0))
    moof = _moof(sequence, base_time, sizes, frame_duration, moof_size + 8)
    return moof + box(b"mdat", *frames)


def fragment_samples(data: bytes) -> int:
    """Total duration, in timescale units, of the fragments in ``data`` (made by ``fragment``).

    Lets a recording's playlist be rebuilt from the files alone after a restart.
    """
    total = 0
    for kind, moof in _children(data):
        if kind != b"moof":
            continue
        for kind2, traf in _children(moof):
            if kind2 != b"traf":
                continue
            default_duration = 0
            count = 0
            for kind3, body in _children(traf):
                if kind3 == b"tfhd":
                    default_duration = _tfhd_default_duration(body)
                elif kind3 == b"trun":
                    count += struct.unpack_from(">I", body, 4)[0]
            total += count * default_duration
    return total


def _mvhd(timescale: int) -> bytes:
    return full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, timescale, 0),  # created, modified, timescale, duration
        struct.pack(">IH", 0x10000, 0x100),  # rate 1.0, volume 1.0
        bytes(10),
        _UNITY_MATRIX,
        bytes(24),  # pre_defined
        struct.pack(">I", TRACK_ID + 1),  # next_track_ID
    )


def _trak(asc: bytes, sample_rate: int, channels: int) -> bytes:
    tkhd = full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, TRACK_ID, 0, 0),  # created, modified, id, reserved, duration
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0x100, 0),  # layer, alternate group, volume 1.0, reserved
        _UNITY_MATRIX,
        struct.pack(">II", 0, 0),  # width, height
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, sample_rate, 0, _LANGUAGE_UND, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"soun"), bytes(12), b"SoundHandler\0")
    smhd = full_box(b"smhd", 0, 0, struct.pack(">hH", 0, 0))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    stbl = box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), _mp4a(asc, sample_rate, channels)),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, box(b"minf", smhd, dinf, stbl)))


def _mp4a(asc: bytes, sample_rate: int, channels: int) -> bytes:
    if not 0 < sample_rate < 1 << 16:
        raise ValueError("an mp4a sample entry holds rates below 65536 Hz")
    return box(
        b"mp4a",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(8),
        struct.pack(">HHHH", channels, 16, 0, 0),  # channels, sample size, pre_defined, reserved
        struct.pack(">I", sample_rate << 16),  # 16.16 fixed point
        _esds(asc),
    )


def _esds(asc: bytes) -> bytes:
    """The MPEG-4 elementary stream descriptor (ISO/IEC 14496-1) that carries the ASC."""
    decoder_specific = _descriptor(0x05, asc)
    decoder_config = _descriptor(
        0x04,
        struct.pack(">BB", 0x40, (0x05 << 2) | 1),  # MPEG-4 audio; audio stream, reserved bit
        bytes(3),  # bufferSizeDB
        struct.pack(">II", 0, 0),  # max and average bit rate: unknown
        decoder_specific,
    )
    sl_config = _descriptor(0x06, b"\x02")  # predefined: MP4
    es = _descriptor(0x03, struct.pack(">HB", TRACK_ID, 0), decoder_config, sl_config)
    return full_box(b"esds", 0, 0, es)


def _descriptor(tag: int, *payload: bytes) -> bytes:
    body = b"".join(payload)
    size = len(body)
    # Sizes are 7 bits per byte, high bit set on all but the last.
    encoded = [size & 0x7F]
    size >>= 7
    while size:
        encoded.append(0x80 | (size & 0x7F))
        size >>= 7
    return bytes([tag, *reversed(encoded)]) + body


def _mvex() -> bytes:
    trex = full_box(
        b"trex",
        0,
        0,
        struct.pack(">IIIII", TRACK_ID, 1, AAC_FRAME_SAMPLES, 0, _INDEPENDENT_SAMPLE_FLAGS),
    )
    return box(b"mvex", trex)


def _moof(
    sequence: int, base_time: int, sizes: Sequence[int], frame_duration: int, data_offset: int
) -> bytes:
    mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", sequence))
    tfhd = full_box(
        b"tfhd",
        0,
        _TFHD_DEFAULT_BASE_IS_MOOF | _TFHD_DEFAULT_DURATION | _TFHD_DEFAULT_FLAGS,
        struct.pack(">III", TRACK_ID, frame_duration, _INDEPENDENT_SAMPLE_FLAGS),
    )
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base_time))
    trun = full_box(
        b"trun",
        0,
        _TRUN_DATA_OFFSET | _TRUN_SAMPLE_SIZE,
        struct.pack(">Ii", len(sizes), data_offset),
        struct.pack(f">{len(sizes)}I", *sizes),
    )
    return box(b"moof", mfhd, box(b"traf", tfhd, tfdt, trun))


def _children(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The (type, payload) of each box laid end to end in ``data``."""
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        if size < 8 or offset + size > len(data):
            raise ValueError(f"malformed box {kind!r} at byte {offset}")
        yield kind, data[offset + 8 : offset + size]
        offset += size


def _tfhd_default_duration(body: bytes) -> int:
    flags = struct.unpack_from(">I", body, 0)[0] & 0xFF_FFFF
    if not flags & _TFHD_DEFAULT_DURATION:
        raise ValueError("tfhd carries no default sample duration")
    offset = 8  # version/flags, track_ID
    if flags & 0x01:  # base-data-offset
        offset += 8
    if flags & 0x02:  # sample-description-index
        offset += 4
    duration: int = struct.unpack_from(">I", body, offset)[0]
    return duration
