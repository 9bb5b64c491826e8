"""Speaker embeddings as database blobs: EMBEDDING_DIM little-endian float32 values.

The byte layout is fixed (little-endian) so that a database copied between machines reads the
same numbers; `blob_to_embedding(embedding_to_blob(e))` is bit-identical for float32 input.
"""

from __future__ import annotations

import numpy as np

from storage.models import EMBEDDING_DIM
from sv2tts.embedding import l2_normalize

_BLOB_DTYPE = np.dtype("<f4")
BLOB_BYTES = EMBEDDING_DIM * _BLOB_DTYPE.itemsize


def as_embedding(values: object) -> np.ndarray:
    """A 1-D float32 copy of `values`, checked for shape and finiteness."""
    array = np.asarray(values)
    if array.shape != (EMBEDDING_DIM,):
        raise ValueError(f"embedding must have shape ({EMBEDDING_DIM},), got {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"embedding must hold floats, got {array.dtype}")
    result = array.astype(np.float32, copy=True)
    if not np.all(np.isfinite(result)):
        raise ValueError("embedding holds NaN or infinity")
    return result


def embedding_to_blob(embedding: np.ndarray) -> bytes:
    return as_embedding(embedding).astype(_BLOB_DTYPE, copy=False).tobytes()


def blob_to_embedding(blob: bytes) -> np.ndarray:
    if len(blob) != BLOB_BYTES:
        raise ValueError(f"embedding blob must be {BLOB_BYTES} bytes, got {len(blob)}")
    # Native float32 and a writable copy: the caller owns the array, not the buffer.
    return np.frombuffer(blob, dtype=_BLOB_DTYPE).astype(np.float32, copy=True)


def merged_embedding(
    current: np.ndarray, current_seconds: float, added: np.ndarray, added_seconds: float
) -> np.ndarray:
    """The mean of two embeddings weighted by seconds of speech, normalised again.

    Each side counts by its speech; a side with no speech recorded counts as one second so
    that a merge never divides by zero or drops a recording entirely.
    """
    w_current = max(float(current_seconds), 0.0) or 1.0
    w_added = max(float(added_seconds), 0.0) or 1.0
    mean = (current.astype(np.float64) * w_current + added.astype(np.float64) * w_added) / (
        w_current + w_added
    )
    return l2_normalize(mean)
