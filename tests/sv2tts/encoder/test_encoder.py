"""The speaker encoder reproduces the reference embeddings of six real speakers.

The real weights are resemblyzer's `pretrained.pt` (the SV2TTS encoder.pt, byte for byte in
layout and step); these tests skip where resemblyzer is not installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.audio import dsp
from sv2tts.audio.codec import decode_audio
from sv2tts.encoder.model import EncoderConfig, SpeakerEncoder, load_encoder, partial_slices

SPEAKERS = ("1320_00000", "3575_00000", "6829_00000", "8230_00000", "p240_00000", "p260_00000")


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    # find_spec locates the package without importing it: resemblyzer's own code (and its
    # imports) is not needed, only the weights file it ships.
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("resemblyzer (which ships the real encoder weights) is not installed")
    weights = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not weights.is_file():
        pytest.skip(f"resemblyzer has no pretrained.pt at {weights}")
    return load_encoder(weights)


@pytest.fixture(scope="module")
def reference(reference_dir: Path) -> dict[str, np.ndarray]:
    with np.load(reference_dir / "encoder_reference.npz") as data:
        return {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def mp3_embeddings(encoder: SpeakerEncoder, audio_dir: Path) -> dict[str, np.ndarray]:
    """Each speaker's embedding through our own decoder, resampler, normalisation and VAD."""
    embeddings = {}
    for name in SPEAKERS:
        wav = decode_audio(audio_dir / f"{name}.mp3")
        embeddings[name], _ = encoder.embed_utterance(dsp.preprocess_wav(wav, 16000))
    return embeddings


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("name", SPEAKERS)
def test_embedding_from_reference_mel_matches(
    encoder: SpeakerEncoder, reference: dict[str, np.ndarray], name: str
) -> None:
    embedding, partials = encoder.embed_frames(reference[f"{name}__mel"])

    assert cosine(embedding, reference[f"{name}__embed"]) >= 0.9999
    expected = reference[f"{name}__partials"]
    assert partials.shape == expected.shape
    for ours, theirs in zip(partials, expected, strict=True):
        assert cosine(ours, theirs) >= 0.9999


@pytest.mark.parametrize("name", SPEAKERS)
def test_embedding_from_reference_wav_matches(
    encoder: SpeakerEncoder, reference: dict[str, np.ndarray], name: str
) -> None:
    embedding, partials = encoder.embed_utterance(reference[f"{name}__wav"])

    assert embedding.dtype == np.float32
    assert embedding.shape == (256,)
    assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)
    assert cosine(embedding, reference[f"{name}__embed"]) >= 0.9999
    assert partials.shape == reference[f"{name}__partials"].shape


@pytest.mark.parametrize("name", SPEAKERS)
def test_embedding_from_mp3_matches(
    mp3_embeddings: dict[str, np.ndarray], reference: dict[str, np.ndarray], name: str
) -> None:
    assert cosine(mp3_embeddings[name], reference[f"{name}__embed"]) >= 0.995


def test_six_speakers_are_told_apart(
    mp3_embeddings: dict[str, np.ndarray], reference: dict[str, np.ndarray]
) -> None:
    ours = np.stack([mp3_embeddings[name] for name in SPEAKERS])
    theirs = np.stack([reference[f"{name}__embed"] for name in SPEAKERS])

    between = ours @ ours.T
    off_diagonal = between[~np.eye(len(SPEAKERS), dtype=bool)]
    assert off_diagonal.max() < 0.85
    assert off_diagonal.min() > 0.2  # still all human speech, not unrelated vectors
    against_reference = ours @ theirs.T
    assert list(against_reference.argmax(axis=1)) == list(range(len(SPEAKERS)))


# --- without the real weights ---------------------------------------------------------------


def test_partials_step_by_half_a_partial() -> None:
    slices = partial_slices(16000 * 5)  # 501 frames

    assert [s.start for s in slices] == [0, 80, 160, 240, 320]
    assert all(s.stop - s.start == 160 for s in slices)


def test_trailing_partial_needs_three_quarters_coverage() -> None:
    config = EncoderConfig()
    hop = config.signal.hop_length
    # A partial starting at frame 80 covers 0.75 of itself when 80 + 120 frames exist.
    enough = partial_slices((80 + 120) * hop, config)
    short = partial_slices((80 + 119) * hop, config)

    assert enough[-1].start == 80
    assert short[-1].start == 0


def test_a_short_utterance_still_gets_one_partial() -> None:
    assert partial_slices(1600) == [slice(0, 160)]


def test_partials_are_embedded_in_one_batched_forward_pass() -> None:
    torch.manual_seed(0)
    encoder = SpeakerEncoder().eval()
    calls: list[tuple[int, ...]] = []
    encoder.lstm.register_forward_hook(lambda _m, args, _o: calls.append(tuple(args[0].shape)))
    wav = np.random.default_rng(0).normal(scale=0.1, size=16000 * 4).astype(np.float32)

    embedding, partials = encoder.embed_utterance(wav)

    assert calls == [(len(partials), 160, 40)]
    assert len(partials) > 1
    assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(partials, axis=1) == pytest.approx(np.ones(len(partials)), abs=1e-5)


def test_embedding_an_empty_waveform_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        SpeakerEncoder().eval().embed_utterance(np.zeros(0, dtype=np.float32))
