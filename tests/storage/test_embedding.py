"""Embeddings survive storage bit for bit, and merging is the speech-weighted mean."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from storage import (
    EncoderMismatchError,
    Storage,
    blob_to_embedding,
    embedding_to_blob,
    merged_embedding,
)

from .conftest import make_sample, unit_vector


def awkward_embedding() -> np.ndarray:
    values = unit_vector(3)
    special = np.array(
        [
            0.0,
            -0.0,
            np.finfo(np.float32).tiny,  # smallest normal
            np.float32(1e-45),  # subnormal
            np.finfo(np.float32).max,
            -np.finfo(np.float32).max,
            np.nextafter(np.float32(1), np.float32(2)),
        ],
        dtype=np.float32,
    )
    values[: len(special)] = special
    return values


def test_blob_round_trip_is_bit_identical() -> None:
    embedding = awkward_embedding()
    blob = embedding_to_blob(embedding)
    assert len(blob) == 256 * 4
    back = blob_to_embedding(blob)
    assert back.dtype == np.float32 and back.shape == (256,)
    assert back.tobytes() == embedding.tobytes()
    back[0] = 5.0  # the result is the caller's own, writable array


def test_blob_is_little_endian_float32_whatever_the_input_order() -> None:
    embedding = unit_vector(1)
    big_endian = embedding.astype(">f4")
    assert embedding_to_blob(big_endian) == embedding.astype("<f4").tobytes()


@pytest.mark.parametrize(
    "bad",
    [np.zeros(255, np.float32), np.zeros((2, 128), np.float32), np.full(256, np.nan, np.float32)],
)
def test_malformed_embeddings_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        embedding_to_blob(bad)


def test_blob_of_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        blob_to_embedding(b"\x00" * 1023)


async def test_voice_embedding_round_trips_through_the_database(storage: Storage) -> None:
    await storage.users.ensure(1)
    embedding = awkward_embedding()
    sample = dataclasses.replace(make_sample(), embedding=embedding)
    created = await storage.voices.create(1, "v", sample)
    fetched = await storage.voices.get_owned(1, created.id)
    assert fetched is not None
    assert fetched.embedding.tobytes() == embedding.tobytes()


def test_merge_is_the_speech_weighted_mean_normalised() -> None:
    a, b = unit_vector(10), unit_vector(11)
    merged = merged_embedding(a, 1.0, b, 3.0)
    expected = (1.0 * a.astype(np.float64) + 3.0 * b.astype(np.float64)) / 4.0
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(merged, expected, rtol=0, atol=1e-6)
    assert abs(float(np.linalg.norm(merged.astype(np.float64))) - 1.0) < 1e-6
    # more speech pulls harder: the result is closer to b than to a
    assert float(merged @ b) > float(merged @ a)


def test_merge_of_a_voice_with_itself_changes_nothing() -> None:
    a = unit_vector(12)
    np.testing.assert_allclose(merged_embedding(a, 2.0, a, 7.0), a, atol=1e-6)


async def test_adding_a_recording_merges_and_keeps_it(storage: Storage) -> None:
    await storage.users.ensure(1)
    first = make_sample(20, speech_seconds=2.0, audio=b"first", level_dbfs=-30.0)
    second = make_sample(21, speech_seconds=6.0, audio=b"second", level_dbfs=-20.0)
    voice = await storage.voices.create(1, "me", first)
    refined = await storage.voices.add_sample(1, voice.id, second)
    assert refined is not None
    expected = merged_embedding(first.embedding, 2.0, second.embedding, 6.0)
    assert refined.embedding.tobytes() == expected.tobytes()
    assert refined.sample_count == 2
    assert refined.speech_seconds == pytest.approx(8.0)
    assert refined.level_dbfs == pytest.approx((-30.0 * 2 + -20.0 * 6) / 8)
    kept = [
        await storage.recordings.read(r) for r in await storage.recordings.list_for_voice(voice.id)
    ]
    assert kept == [b"first", b"second"]

    # A third sample is weighted against the 8 seconds already behind the voice.
    third = make_sample(22, speech_seconds=8.0)
    again = await storage.voices.add_sample(1, voice.id, third)
    assert again is not None
    np.testing.assert_allclose(
        again.embedding, merged_embedding(expected, 8.0, third.embedding, 8.0), atol=1e-7
    )


async def test_samples_from_another_encoder_are_not_mixed_in(storage: Storage) -> None:
    await storage.users.ensure(1)
    voice = await storage.voices.create(1, "me", make_sample(1))
    with pytest.raises(EncoderMismatchError):
        await storage.voices.add_sample(1, voice.id, make_sample(2, encoder_id="other", audio=b"x"))
    unchanged = await storage.voices.get_owned(1, voice.id)
    assert unchanged is not None
    assert unchanged.embedding.tobytes() == voice.embedding.tobytes()
    assert await storage.recordings.list_for_voice(voice.id) == []
