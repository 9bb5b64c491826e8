"""Every item of the hostile corpus gets its defined answer from the engine, and nothing else.

The engine's path for a user's recording: `decode_audio` (byte, duration and time limits),
then `VoiceEncoder.embed` (the recording checks, then the real speaker encoder). An item's
answer is the EngineError code that path raises, or None when a voice comes out; any other
exception fails the test. The real recordings in ../shared/audio/ must be accepted with a
margin on the no-speech measure, and the noise, tones and music refused with one.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sv2tts.audio import codec
from sv2tts.audio.recording import RecordingLimits, RecordingStats
from sv2tts.encoder.voices import VoiceEncoder
from sv2tts.errors import ENGINE_ERROR_CODES, EngineError, RecordingError
from sv2tts.loading import load_voice_encoder
from sv2tts.weights.manifest import bundled_encoder_path
from tests.conftest import AUDIO
from tests.fakes.hostile_audio import HostileItem, corpus_names, hostile_corpus

SPEECH_SOURCE = "p240_00000.mp3"
NO_SPEECH_ITEMS = ("white_noise", "pink_noise", "tone", "music", "melody", "drums")
THRESHOLD = RecordingLimits().min_speech_share


@pytest.fixture(scope="module")
def encoder() -> VoiceEncoder:
    if bundled_encoder_path() is None:
        pytest.skip("resemblyzer's encoder weights are absent (pip install --no-deps resemblyzer)")
    return load_voice_encoder(Path("/nonexistent"), device="cpu")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, HostileItem]:
    speech = AUDIO / SPEECH_SOURCE
    items = hostile_corpus(tmp_path_factory.mktemp("hostile"), speech if speech.is_file() else None)
    return {item.name: item for item in items}


def answer(encoder: VoiceEncoder, data: bytes) -> tuple[str | None, RecordingStats | None]:
    """(error code or None, what the recording measured if it got that far)."""
    try:
        voice = encoder.embed(codec.decode_audio(data))
    except RecordingError as error:
        return error.code, error.stats
    except EngineError as error:
        return error.code, None
    return None, voice.recording


@pytest.mark.parametrize("name", corpus_names())
def test_each_hostile_item_gets_its_defined_answer_in_time(
    encoder: VoiceEncoder, corpus: dict[str, HostileItem], name: str
) -> None:
    if name not in corpus:
        pytest.skip(f"{name} is made from {SPEECH_SOURCE}, absent (../shared/audio)")
    item = corpus[name]
    assert item.expected is None or item.expected in ENGINE_ERROR_CODES
    started = time.perf_counter()
    code, stats = answer(encoder, item.data)
    assert time.perf_counter() - started < codec.DEFAULT_TIMEOUT
    assert code == item.expected, f"{name}: {code} ({stats})"


@pytest.mark.parametrize("name", NO_SPEECH_ITEMS)
def test_noise_tones_and_music_are_far_below_the_speech_threshold(
    encoder: VoiceEncoder, corpus: dict[str, HostileItem], name: str
) -> None:
    code, stats = answer(encoder, corpus[name].data)
    assert code == "no_speech" and stats is not None
    assert stats.speech_seconds > 5.0  # the voice-activity detection alone would take it
    assert stats.speech_share < THRESHOLD / 2


@pytest.mark.parametrize("name", sorted(p.name for p in AUDIO.glob("*.mp3")) or ["(absent)"])
def test_every_real_recording_is_accepted_with_margin(
    encoder: VoiceEncoder, audio_dir: Path, name: str
) -> None:
    code, stats = answer(encoder, (audio_dir / name).read_bytes())
    assert code is None and stats is not None
    assert stats.speech_share > 2 * THRESHOLD
