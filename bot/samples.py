"""A worker's EmbedResult as the storage Sample it becomes (user recordings and bank imports)."""

from __future__ import annotations

import numpy as np

from storage import Sample
from worker.api import AudioKind, EmbedResult


def sample_of(result: EmbedResult, kind: AudioKind) -> Sample:
    return Sample(
        embedding=np.asarray(result.embedding, dtype=np.float32),
        encoder_id=result.encoder_id,
        recording=result.recording,
        audio=result.recording_ogg,
        audio_kind=kind,
    )
