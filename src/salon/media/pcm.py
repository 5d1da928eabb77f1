"""The one audio format inside Salon's media plane.

Everything between decoders and encoders is 48 kHz mono signed 16-bit PCM, as 1-D numpy
arrays, moved in 20 ms frames (960 samples): Opus's native rate and frame, so WebRTC audio
needs no resampling beyond down-mixing stereo.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 48_000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 960

Pcm = npt.NDArray[np.int16]


def silence(samples: int = FRAME_SAMPLES) -> Pcm:
    return np.zeros(samples, dtype=np.int16)
