"""Speaker embeddings as vectors: the one normalisation and the checks around it."""

from __future__ import annotations

import numpy as np
import pytest

from sv2tts.embedding import blend, cosine_similarity, l2_normalize, speaker_vector


def test_l2_normalize_gives_a_float32_unit_vector_in_the_same_direction() -> None:
    vector = np.array([3.0, 4.0] + [0.0] * 254)
    unit = l2_normalize(vector)
    assert unit.dtype == np.float32
    assert np.linalg.norm(unit) == pytest.approx(1.0, abs=1e-7)
    np.testing.assert_allclose(unit[:2], [0.6, 0.8], atol=1e-7)


@pytest.mark.parametrize("bad", [np.zeros(256), np.full(256, np.inf), np.full(256, np.nan)])
def test_l2_normalize_refuses_a_vector_without_direction(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="normalised"):
        l2_normalize(bad)


def test_cosine_similarity_of_a_vector_with_itself_and_its_orthogonal() -> None:
    a, b = np.zeros(256), np.zeros(256)
    a[0], b[1] = 2.0, 5.0
    assert cosine_similarity(a, a) == pytest.approx(1.0)
    assert cosine_similarity(a, b) == pytest.approx(0.0)
    assert cosine_similarity(a, a + b) == pytest.approx(2.0 / np.sqrt(29.0), abs=1e-6)


def test_speaker_vector_refuses_non_finite_values() -> None:
    vector = np.ones(256)
    vector[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        speaker_vector(vector)


def test_blend_is_the_normalised_weighted_mean() -> None:
    rng = np.random.default_rng(3)
    a, b = np.abs(rng.standard_normal(256)), np.abs(rng.standard_normal(256))
    a, b = l2_normalize(a), l2_normalize(b)
    np.testing.assert_allclose(blend(a, b, 0.0), a, atol=1e-6)
    np.testing.assert_allclose(blend(a, b, 1.0), b, atol=1e-6)
    half = blend(a, b, 0.5)
    assert np.linalg.norm(half) == pytest.approx(1.0, abs=1e-6)
    # Half way: as close to one as to the other, and closer to each than they are apart.
    assert cosine_similarity(half, a) == pytest.approx(cosine_similarity(half, b), abs=1e-6)
    assert cosine_similarity(half, a) > cosine_similarity(a, b)
    quarter = blend(a, b, 0.25)
    np.testing.assert_allclose(quarter, l2_normalize(0.75 * a + 0.25 * b), atol=1e-6)
    assert cosine_similarity(quarter, a) > cosine_similarity(quarter, b)


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_blend_refuses_a_weight_outside_zero_to_one(weight: float) -> None:
    with pytest.raises(ValueError, match="weight"):
        blend(np.ones(256), np.ones(256), weight)
