"""A dialogue through the synth job (each voice's lines in one batch, turns back in script
order), the outcome's file_id, and the check job, with the stand-in engine and the real
watermark."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from redis import Redis

from sv2tts.audio.codec import SAMPLE_RATE, decode_audio, encode_ogg_opus
from tests.fakes.botapi import FakeBotAPI
from tests.worker.conftest import ToneEngine
from worker.api import (
    RESULTS_LIST,
    DialogueTurn,
    EmbedError,
    EmbedRequest,
    JobError,
    SynthOutcome,
    SynthRequest,
)
from worker.check import run_check
from worker.dialogue import TURN_PAUSE_SECONDS, joined_turns
from worker.runtime import Runtime
from worker.synth import run_synth


def voice(index: int) -> list[float]:
    vector = [0.0] * 256
    vector[index] = 1.0
    return vector


def dialogue_request(turns: list[tuple[int, str]], **changes: object) -> SynthRequest:
    fields: dict[str, object] = {
        "request_id": 21,
        "user_id": 1001,
        "chat_id": 1001,
        "reply_to_message_id": 7,
        "text": "\n".join(f"V{s}: {t}" for s, t in turns),
        "embedding": voice(0),
        "speakers": [voice(0), voice(1), voice(2)],
        "turns": [DialogueTurn(s, t) for s, t in turns],
        "enqueued_at": time.time(),
    }
    fields.update(changes)
    return SynthRequest(**fields)  # type: ignore[arg-type]


def pitch(segment: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(segment * np.hanning(len(segment))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(segment))


def spoken_segments(wav: np.ndarray) -> list[np.ndarray]:
    """The stretches of sound between silences of at least a tenth of a second."""
    loud = np.abs(wav) > 0.02
    segments, start, quiet = [], None, 0
    for i, on in enumerate(loud):
        if on:
            start = i if start is None else start
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet > SAMPLE_RATE // 10:
                segments.append(wav[start : i - quiet])
                start, quiet = None, 0
    if start is not None:
        segments.append(wav[start:])
    return segments


def test_a_dialogue_request_crosses_redis_as_json_and_back() -> None:
    request = dialogue_request([(0, "Hello."), (1, "Hi!")])
    assert SynthRequest.from_dict(json.loads(json.dumps(request.to_dict()))) == request


def test_each_voice_is_one_batch_and_the_turns_come_back_in_script_order(
    runtime: Runtime, bot_api: FakeBotAPI, redis_conn: Redis, tone_engine: ToneEngine
) -> None:
    script = [(1, "First line of B."), (0, "A answers."), (1, "B again."), (2, "C, finally.")]
    outcome = run_synth(runtime, dialogue_request(script), "job-d1")

    # The lines of each voice went to the engine together, voices in order of first turn.
    assert tone_engine.line_batches == [
        ["First line of B.", "B again."],
        ["A answers."],
        ["C, finally."],
    ]
    assert tone_engine.spoken == []
    [call] = bot_api.calls_of("sendVoice")
    wav = decode_audio(call.upload().data)
    segments = spoken_segments(wav)
    assert [round(pitch(s) / 100) * 100 for s in segments] == [
        ToneEngine.voice_pitch(voice(speaker)) for speaker, _ in script
    ]
    expected = sum(tone_engine.seconds_per_char * len(t) for _, t in script)
    expected += TURN_PAUSE_SECONDS * (len(script) - 1)
    assert len(wav) / SAMPLE_RATE == pytest.approx(expected, abs=0.15)
    assert outcome.ok and outcome.file_id == call.result["voice"]["file_id"]
    assert outcome.file_kind == "voice"
    [pushed] = [
        SynthOutcome.from_dict(json.loads(x)) for x in redis_conn.lrange(RESULTS_LIST, 0, -1)
    ]
    assert pushed.file_id == outcome.file_id


def test_an_mp3_outcome_names_the_audio_file(runtime: Runtime, bot_api: FakeBotAPI) -> None:
    outcome = run_synth(
        runtime, dialogue_request([(0, "One."), (2, "Two.")], output_format="mp3"), "job-d2"
    )
    [call] = bot_api.calls_of("sendAudio")
    assert outcome.file_kind == "audio" and outcome.file_id == call.result["audio"]["file_id"]


def test_a_turn_naming_no_speaker_fails_without_sending(
    runtime: Runtime, bot_api: FakeBotAPI
) -> None:
    with pytest.raises(JobError) as caught:
        run_synth(runtime, dialogue_request([(0, "Fine."), (5, "Who am I?")]), "job-d3")
    assert caught.value.code == "internal"
    assert bot_api.calls_of("sendVoice") == []


def test_empty_turns_leave_no_gap() -> None:
    one, two = np.ones(100, np.float32), np.ones(50, np.float32)
    joined = joined_turns([one, np.zeros(0, np.float32), two], 1000, 0.1)
    assert len(joined) == 100 + 100 + 50


def check_request(api: FakeBotAPI, data: bytes, **fields: object) -> EmbedRequest:
    file_id, _ = api.add_file(data, file_path="voice/check.oga")
    return EmbedRequest(file_id, "voice", **fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def speech(audio_dir: Path) -> np.ndarray:
    return decode_audio(sorted(audio_dir.glob("*.mp3"))[1], max_seconds=60)


def test_a_marked_voice_note_is_found_and_a_recording_is_not(
    runtime: Runtime, bot_api: FakeBotAPI, speech: np.ndarray
) -> None:
    marked = encode_ogg_opus(runtime.watermarker.apply(speech, SAMPLE_RATE), SAMPLE_RATE)
    found = run_check(runtime, check_request(bot_api, marked))
    assert found.verdict == "found" and found.confidence >= 0.8
    assert found.seconds == pytest.approx(len(speech) / SAMPLE_RATE, abs=0.1)
    plain = run_check(runtime, check_request(bot_api, encode_ogg_opus(speech, SAMPLE_RATE)))
    assert plain.verdict == "absent" and plain.confidence < 0.2


@pytest.mark.parametrize(
    ("data", "fields", "code"),
    [
        (b"OggS" + bytes(range(256)) * 8, {}, "not_audio"),
        (b"x" * 100, {"file_size": 10**9}, "too_large"),
    ],
)
def test_a_check_of_bad_input_fails_with_its_code(
    runtime: Runtime, bot_api: FakeBotAPI, data: bytes, fields: dict[str, object], code: str
) -> None:
    with pytest.raises(EmbedError) as caught:
        run_check(runtime, check_request(bot_api, data, **fields))
    assert caught.value.code == code


def test_a_clip_under_a_second_is_too_short_to_check(
    runtime: Runtime, bot_api: FakeBotAPI, speech: np.ndarray
) -> None:
    clip = encode_ogg_opus(speech[: SAMPLE_RATE // 2], SAMPLE_RATE)
    with pytest.raises(EmbedError) as caught:
        run_check(runtime, check_request(bot_api, clip))
    assert caught.value.code == "too_short"
