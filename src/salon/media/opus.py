"""A small ctypes binding to libopus: mono, 48 kHz, 20 ms frames, the stage's only format.

aiortc's codec goes through PyAV (a resampler, AVFrame and AVPacket objects, stereo at
96 kbit/s) and runs in an executor thread; calling libopus directly on preallocated buffers
costs one C call per frame. The system's libopus is used; without one, the copy bundled with
PyAV (``av.libs/``) is.

Encoder and decoder states live in Python-owned buffers (``opus_*_init``), so nothing needs
freeing, and an encoder can take over another's state with ``follow`` (libopus documents its
states as position independent and freely copyable).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
from typing import Any

import numpy as np

from salon.media.pcm import FRAME_SAMPLES, SAMPLE_RATE, Pcm

# Request numbers and constants from opus_defines.h (libopus 1.3).
OPUS_OK = 0
OPUS_APPLICATION_VOIP = 2048
OPUS_APPLICATION_AUDIO = 2049
OPUS_SET_BITRATE = 4002
OPUS_SET_VBR = 4006
OPUS_SET_COMPLEXITY = 4010
OPUS_SET_INBAND_FEC = 4012
OPUS_SET_PACKET_LOSS_PERC = 4014
OPUS_SET_DTX = 4016
OPUS_SET_SIGNAL = 4024
OPUS_SIGNAL_VOICE = 3001

#: The largest Opus packet (RFC 6716, 3.4) and the longest frame a packet can carry (120 ms).
MAX_PACKET_BYTES = 1275
MAX_FRAME_SAMPLES = SAMPLE_RATE * 120 // 1000

CHANNELS = 1

#: A speech bit rate at which in-band FEC applies: FEC is carried by the SILK layer only, so
#: the encoder must stay in SILK or hybrid mode (at or below ~40 kbit/s for speech).
DEFAULT_BITRATE = 32_000


class OpusError(RuntimeError):
    """libopus returned an error code."""


def _find_library() -> str:
    name = ctypes.util.find_library("opus")
    if name is not None:
        return name
    import av  # PyAV wheels bundle their own libopus

    root = os.path.join(os.path.dirname(os.path.dirname(av.__file__)), "av.libs")
    bundled = sorted(glob.glob(os.path.join(root, "libopus*.so*")))
    if not bundled:
        raise OSError("libopus not found: install libopus0 (or PyAV with its bundled codecs)")
    return bundled[0]


def _load() -> Any:
    # PyDLL: calls keep the GIL. Each call is short (well under a millisecond) and made on
    # the event loop; releasing the GIL would let any other busy thread take it for up to
    # the switch interval (5 ms) per call, a delay the mixer clock would feel every tick.
    lib = ctypes.PyDLL(_find_library())
    void_p, char_p = ctypes.c_void_p, ctypes.c_char_p
    lib.opus_get_version_string.restype = char_p
    lib.opus_strerror.restype = char_p
    lib.opus_strerror.argtypes = [ctypes.c_int]
    for name in ("opus_encoder_get_size", "opus_decoder_get_size"):
        getattr(lib, name).argtypes = [ctypes.c_int]
        getattr(lib, name).restype = ctypes.c_int
    lib.opus_encoder_init.argtypes = [void_p, ctypes.c_int32, ctypes.c_int, ctypes.c_int]
    lib.opus_decoder_init.argtypes = [void_p, ctypes.c_int32, ctypes.c_int]
    lib.opus_encode.argtypes = [void_p, void_p, ctypes.c_int, void_p, ctypes.c_int32]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_decode.argtypes = [void_p, char_p, ctypes.c_int32, void_p, ctypes.c_int, ctypes.c_int]
    lib.opus_decode.restype = ctypes.c_int
    # opus_encoder_ctl is variadic; every request used here takes one opus_int32.
    lib.opus_encoder_ctl.restype = ctypes.c_int
    return lib


_lib = _load()


def version() -> str:
    return str(_lib.opus_get_version_string().decode())


def _check(code: int, what: str) -> int:
    if code < 0:
        raise OpusError(f"{what}: {_lib.opus_strerror(code).decode()} ({code})")
    return code


def _address(array: np.ndarray[Any, Any]) -> int:
    return int(array.__array_interface__["data"][0])


class OpusEncoder:
    """Mono 48 kHz Opus encoder of 20 ms frames (``encode(pcm) -> payload``)."""

    def __init__(
        self,
        *,
        bitrate: int = DEFAULT_BITRATE,
        fec: bool = True,
        expected_loss_percent: int = 5,
        dtx: bool = False,
        complexity: int = 5,
        application: int = OPUS_APPLICATION_VOIP,
        voice: bool = True,
    ) -> None:
        self._size = _lib.opus_encoder_get_size(CHANNELS)
        self._state = ctypes.create_string_buffer(self._size)
        self._state_address = ctypes.addressof(self._state)
        _check(
            _lib.opus_encoder_init(self._state, SAMPLE_RATE, CHANNELS, application),
            "opus_encoder_init",
        )
        self._ctl(OPUS_SET_BITRATE, bitrate)
        self._ctl(OPUS_SET_COMPLEXITY, complexity)
        self._ctl(OPUS_SET_INBAND_FEC, int(fec))
        self._ctl(OPUS_SET_PACKET_LOSS_PERC, expected_loss_percent)
        self._ctl(OPUS_SET_DTX, int(dtx))
        if voice:  # a hint that favours SILK/hybrid, where FEC lives
            self._ctl(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE)
        self._pcm: Pcm = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        self._pcm_address = _address(self._pcm)
        self._out = ctypes.create_string_buffer(MAX_PACKET_BYTES)
        self._out_address = ctypes.addressof(self._out)

    def _ctl(self, request: int, value: int) -> None:
        _check(
            _lib.opus_encoder_ctl(self._state, ctypes.c_int(request), ctypes.c_int32(value)),
            f"opus_encoder_ctl({request}, {value})",
        )

    def encode(self, pcm: Pcm) -> bytes:
        """One 20 ms frame (960 int16 samples) in, one Opus packet out."""
        if pcm.shape != (FRAME_SAMPLES,):
            raise ValueError(f"expected {FRAME_SAMPLES} samples, got shape {pcm.shape}")
        np.copyto(self._pcm, pcm, casting="no")  # contiguous, at a known address
        length = _lib.opus_encode(
            self._state_address, self._pcm_address, FRAME_SAMPLES, self._out_address,
            MAX_PACKET_BYTES,
        )  # fmt: skip
        return ctypes.string_at(self._out_address, _check(length, "opus_encode"))

    def follow(self, other: OpusEncoder) -> None:
        """Continue from ``other``'s state, as if this encoder had encoded what it did.

        A decoder fed ``other``'s packets can then be fed this encoder's next packet with no
        discontinuity: the prediction it carries matches what the decoder has.
        """
        if other._size != self._size:
            raise ValueError("encoders of different layouts")
        ctypes.memmove(self._state_address, other._state_address, self._size)


class OpusDecoder:
    """Mono 48 kHz Opus decoder: ``decode``, ``decode_fec`` and ``conceal`` give 960 samples
    each for 20 ms packets (longer packets give more)."""

    def __init__(self) -> None:
        self._state = ctypes.create_string_buffer(_lib.opus_decoder_get_size(CHANNELS))
        self._state_address = ctypes.addressof(self._state)
        _check(_lib.opus_decoder_init(self._state, SAMPLE_RATE, CHANNELS), "opus_decoder_init")
        self._out: Pcm = np.zeros(MAX_FRAME_SAMPLES, dtype=np.int16)
        self._out_address = _address(self._out)

    def _run(self, payload: bytes | None, samples: int, fec: int) -> Pcm:
        length = 0 if payload is None else len(payload)
        decoded = _lib.opus_decode(
            self._state_address, payload, length, self._out_address, samples, fec
        )
        return self._out[: _check(decoded, "opus_decode")].copy()

    def decode(self, payload: bytes) -> Pcm:
        """Decode one packet; an empty payload is treated as lost (concealed)."""
        return self._run(payload or None, MAX_FRAME_SAMPLES, 0)

    def decode_fec(self, next_payload: bytes, samples: int = FRAME_SAMPLES) -> Pcm:
        """Recover the ``samples`` lost just before ``next_payload`` from the in-band FEC it
        carries; libopus conceals (PLC) instead when it carries none. Decode
        ``next_payload`` itself afterwards."""
        return self._run(next_payload, samples, 1)

    def conceal(self, samples: int = FRAME_SAMPLES) -> Pcm:
        """Packet-loss concealment for ``samples`` (a multiple of 2.5 ms) of lost audio."""
        return self._run(None, samples, 0)
