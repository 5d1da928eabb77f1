"""Hand-written fMP4 boxes: the structure players look for, and FFmpeg decoding them."""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest

from salon.media.hls import fmp4
from salon.media.hls.encoder import AacEncoder
from salon.media.pcm import SAMPLE_RATE


def children(data: bytes) -> list[tuple[bytes, bytes]]:
    found = []
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack_from(">I4s", data, offset)
        found.append((kind, data[offset + 8 : offset + size]))
        offset += size
    assert offset == len(data)
    return found


def child(data: bytes, kind: bytes) -> bytes:
    matches = [body for found, body in children(data) if found == kind]
    assert len(matches) == 1, kind
    return matches[0]


def encoded_tone(seconds: float) -> tuple[AacEncoder, list[bytes]]:
    encoder = AacEncoder()
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    tone = (np.sin(2 * np.pi * 1000 * t) * 8000).astype(np.int16)
    frames = encoder.encode(tone) + encoder.flush()
    return encoder, [frame.data for frame in frames]


def test_init_segment_has_the_boxes_players_look_for() -> None:
    asc = bytes([0x11, 0x88])
    init = fmp4.init_segment(asc, SAMPLE_RATE, 1)

    assert [kind for kind, _ in children(init)] == [b"ftyp", b"moov"]
    moov = child(init, b"moov")
    assert [kind for kind, _ in children(moov)] == [b"mvhd", b"trak", b"mvex"]
    mdia = child(child(moov, b"trak"), b"mdia")
    assert [kind for kind, _ in children(mdia)] == [b"mdhd", b"hdlr", b"minf"]
    assert struct.unpack_from(">I", child(mdia, b"mdhd"), 12)[0] == SAMPLE_RATE  # timescale
    assert child(mdia, b"hdlr")[8:12] == b"soun"
    stbl = child(child(mdia, b"minf"), b"stbl")
    assert [kind for kind, _ in children(stbl)] == [b"stsd", b"stts", b"stsc", b"stsz", b"stco"]
    mp4a = child(child(stbl, b"stsd")[8:], b"mp4a")
    channels, sample_size = struct.unpack_from(">HH", mp4a, 16)
    assert (channels, sample_size) == (1, 16)
    assert struct.unpack_from(">I", mp4a, 24)[0] == SAMPLE_RATE << 16
    esds = child(mp4a[28:], b"esds")
    assert esds.endswith(bytes([0x05, 2, 0x11, 0x88, 0x06, 1, 0x02]))  # ASC, then SL config
    trex = child(child(moov, b"mvex"), b"trex")
    assert struct.unpack_from(">III", trex, 4) == (fmp4.TRACK_ID, 1, 1024)


def test_fragment_offsets_point_at_the_samples() -> None:
    frames = [b"\x01" * 10, b"\x02" * 20, b"\x03" * 5]
    data = fmp4.fragment(7, 123_456_789_000, frames)

    (moof_kind, moof), (mdat_kind, mdat) = children(data)
    assert (moof_kind, mdat_kind) == (b"moof", b"mdat")
    assert mdat == b"".join(frames)
    assert struct.unpack_from(">I", child(moof, b"mfhd"), 4)[0] == 7
    traf = child(moof, b"traf")
    tfhd = child(traf, b"tfhd")
    assert struct.unpack_from(">I", tfhd, 0)[0] & 0x020000  # default-base-is-moof
    tfdt = child(traf, b"tfdt")
    assert tfdt[0] == 1  # version 1: a 64-bit decode time
    assert struct.unpack_from(">Q", tfdt, 4)[0] == 123_456_789_000
    trun = child(traf, b"trun")
    count, offset = struct.unpack_from(">Ii", trun, 4)
    assert count == 3
    assert struct.unpack_from(">3I", trun, 12) == (10, 20, 5)
    assert data[offset : offset + 35] == b"".join(frames)
    assert fmp4.fragment_samples(data + data) == 2 * 3 * 1024


def test_fragment_needs_frames() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        fmp4.fragment(1, 0, [])


def test_long_decoder_config_uses_multi_byte_descriptor_sizes() -> None:
    init = fmp4.init_segment(bytes(200), SAMPLE_RATE, 1)
    # 200 = 0b1_1001000: two 7-bit groups, continuation bit on the first.
    assert bytes([0x05, 0x81, 0x48]) + bytes(200) in init


def test_ffmpeg_decodes_init_plus_fragments() -> None:
    encoder, frames = encoded_tone(1.0)
    data = fmp4.init_segment(encoder.audio_specific_config, SAMPLE_RATE, 1)
    for sequence, start in enumerate(range(0, len(frames), 10), start=1):
        data += fmp4.fragment(sequence, start * 1024, frames[start : start + 10])

    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.sample_rate, stream.channels) == ("aac", 48000, 1)
        decoded = [frame.pts for frame in container.decode(stream)]

    assert decoded == [i * 1024 for i in range(len(frames))]
