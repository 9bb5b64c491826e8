"""A recording by file_id to an embedding, with the stand-in engine and real decoding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sv2tts.audio.codec import SAMPLE_RATE, decode_audio, encode_ogg_opus
from tests.conftest import AUDIO
from tests.fakes.botapi import FakeBotAPI
from tests.worker.conftest import voice_note_of
from worker.api import EmbedError, EmbedRequest, EmbedResult
from worker.embed import run_embed
from worker.runtime import Runtime


def test_a_voice_note_gives_an_embedding_and_its_measurements(
    runtime: Runtime, bot_api: FakeBotAPI, voice_ogg: bytes
) -> None:
    file_id, _ = bot_api.add_file(voice_ogg)
    result = run_embed(runtime, EmbedRequest(file_id=file_id, kind="voice"))
    assert len(result.embedding) == 256
    assert result.encoder_id == "tone-engine"
    assert 2.0 < result.recording.speech_seconds <= result.recording.total_seconds
    assert -40 < result.recording.level_dbfs < 0
    kept = decode_audio(result.recording_ogg)
    assert len(kept) / SAMPLE_RATE == pytest.approx(result.recording.total_seconds, abs=0.1)
    # It crosses Redis as JSON and comes back the same.
    assert EmbedResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_under_two_seconds_of_speech_is_too_short(
    runtime: Runtime, bot_api: FakeBotAPI, audio_dir: object
) -> None:
    file_id, _ = bot_api.add_file(voice_note_of(sorted(AUDIO.glob("*.mp3"))[0], seconds=1.2))
    with pytest.raises(EmbedError) as caught:
        run_embed(runtime, EmbedRequest(file_id=file_id, kind="voice"))
    assert caught.value.code == "too_short"


def test_silence_is_refused_as_silent(runtime: Runtime, bot_api: FakeBotAPI) -> None:
    file_id, _ = bot_api.add_file(encode_ogg_opus(np.zeros(5 * SAMPLE_RATE), SAMPLE_RATE))
    with pytest.raises(EmbedError) as caught:
        run_embed(runtime, EmbedRequest(file_id=file_id, kind="voice"))
    assert caught.value.code == "silent"


def test_bytes_that_are_not_audio_are_refused(runtime: Runtime, bot_api: FakeBotAPI) -> None:
    file_id, _ = bot_api.add_file(b"%PDF-1.4 definitely not a voice message" * 50)
    with pytest.raises(EmbedError) as caught:
        run_embed(runtime, EmbedRequest(file_id=file_id, kind="document"))
    assert caught.value.code == "not_audio"


def test_a_file_over_the_limit_is_refused_without_downloading_it(
    runtime: Runtime, bot_api: FakeBotAPI
) -> None:
    limit = runtime.settings.max_audio_bytes
    file_id, _ = bot_api.add_file(b"x" * 100, file_size=limit + 1)
    with pytest.raises(EmbedError) as caught:
        run_embed(runtime, EmbedRequest(file_id=file_id, kind="audio"))
    assert caught.value.code == "too_large"
    assert bot_api.calls_of("getFile")  # asked, then refused on the reported size
