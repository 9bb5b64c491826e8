"""Speaker embeddings as plain NumPy vectors: normalising, comparing and blending them.

A speaker embedding is `EMBEDDING_SIZE` finite float32 values of unit L2 norm (the speaker
encoder's output). This is the one place that normalises one; NumPy only, no torch, so the
bot's storage may use it too.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

EMBEDDING_SIZE = 256

Vector = ArrayLike  # an array, a list of floats, or a Voice (it has __array__)


def l2_normalize(vector: Vector) -> np.ndarray:
    """`vector` divided by its L2 norm, as float32 (computed in float64).

    ValueError for a vector of zero length or with non-finite values: it has no direction.
    """
    values = np.asarray(vector, dtype=np.float64)
    norm = float(np.linalg.norm(values))
    if norm == 0.0 or not np.isfinite(norm):
        raise ValueError("a vector of zero or non-finite length cannot be normalised")
    return (values / norm).astype(np.float32)


def speaker_vector(embedding: Vector) -> np.ndarray:
    """A (EMBEDDING_SIZE,) float32 unit vector from an array, a list of floats, or anything
    with `__array__` (a `Voice`); ValueError for a wrong shape, non-finite values or zeros."""
    vector = np.asarray(embedding, dtype=np.float32).reshape(-1)
    if vector.shape != (EMBEDDING_SIZE,) or not np.all(np.isfinite(vector)):
        raise ValueError(f"a speaker embedding is {EMBEDDING_SIZE} finite floats")
    if not np.any(vector):
        raise ValueError("a speaker embedding cannot be all zeros")
    return l2_normalize(vector)


def cosine_similarity(a: Vector, b: Vector) -> float:
    """The cosine of the angle between two speaker embeddings, in [-1, 1]."""
    return float(np.dot(speaker_vector(a).astype(np.float64), speaker_vector(b)))


def blend(first: Vector, second: Vector, weight: float = 0.5) -> np.ndarray:
    """The normalised weighted mean of two speaker embeddings: `weight` of `second`,
    `1 - weight` of `first` (0 gives `first`, 1 gives `second`)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the blend weight must be within 0..1, not {weight}")
    a = speaker_vector(first).astype(np.float64)
    b = speaker_vector(second).astype(np.float64)
    return l2_normalize((1.0 - weight) * a + weight * b)
