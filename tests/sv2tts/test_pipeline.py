"""The pipeline: tiny synthesizer and vocoder, the real encoder (resemblyzer's file).

It takes samples: files are decoded first, as the CLI and the worker do. What it speaks is
the vocoder's waveform; the finishing ladder (sv2tts.finish) makes it what is heard.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts import finish
from sv2tts.audio import codec as audio
from sv2tts.audio import dsp
from sv2tts.audio.recording import RecordingLimits, RecordingStats, recording_problem
from sv2tts.devices import choose_device
from sv2tts.embedding import speaker_vector
from sv2tts.encoder.voices import Voice
from sv2tts.errors import NothingToSay, RecordingError
from sv2tts.loading import load_voice_encoder
from sv2tts.pipeline import Pipeline
from sv2tts.speech import SynthesisOptions, joined_mels, length_batches, padded_batch
from sv2tts.standins import (
    random_pipeline,
    random_speaker,
    random_synthesizer,
    random_vocoder,
    read_reference_shapes,
)
from sv2tts.weights.manifest import WeightsError, bundled_encoder_path, read_manifest
from tests.fakes.weights import make_tiny_weights_dir

HOP = 200
# Tiny weights never emit a stop token: the step cap sets each sentence's length (r = 1).
STEPS = 24
FAST = SynthesisOptions(max_steps=STEPS, deterministic=True, wavernn_target=600, wavernn_overlap=50)


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if bundled_encoder_path() is None:
        pytest.skip("resemblyzer's encoder weights are absent (pip install --no-deps resemblyzer)")
    return make_tiny_weights_dir(tmp_path_factory.mktemp("tiny-weights"))


@pytest.fixture(scope="module")
def pipeline(weights_dir: Path) -> Pipeline:
    return Pipeline.load(weights_dir, device="cpu")


@pytest.fixture(scope="module")
def speech(audio_dir: Path) -> np.ndarray:
    return audio.decode_audio(audio_dir / "p240_00000.mp3")


def test_embed_of_a_real_mp3_is_a_unit_vector_with_its_measurements(
    pipeline: Pipeline, audio_dir: Path
) -> None:
    voice = pipeline.embed(audio.decode_audio(audio_dir / "p240_00000.mp3"))
    assert voice.vector.shape == (256,) and voice.vector.dtype == np.float32
    assert np.linalg.norm(voice.vector) == pytest.approx(1.0, abs=1e-5)
    stats = voice.recording
    assert 4.5 < stats.total_seconds < 5.5
    assert 2.0 < stats.speech_seconds <= stats.total_seconds
    assert -40.0 < stats.level_dbfs < 0.0
    assert stats.clipped_fraction < 0.01
    assert voice.encoder_id == read_manifest().spec("encoder").sha256[:16]
    assert pipeline.encoder_id == voice.encoder_id


def test_embed_matches_the_reference_encoder_output(
    pipeline: Pipeline, audio_dir: Path, reference_dir: Path
) -> None:
    reference = np.load(reference_dir / "encoder_reference.npz")
    voice = pipeline.embed(audio.decode_audio(audio_dir / "6829_00000.mp3"))
    assert float(voice.vector @ reference["6829_00000__embed"]) >= 0.995


def test_embed_of_samples_equals_embed_of_the_file(
    pipeline: Pipeline, audio_dir: Path, speech: np.ndarray
) -> None:
    from_file = pipeline.embed(audio.decode_audio((audio_dir / "p240_00000.mp3").read_bytes()))
    from_samples = pipeline.embed(speech, 16000)
    np.testing.assert_allclose(from_samples.vector, from_file.vector, atol=1e-6)
    # Another rate is resampled first: the voice stays the same one.
    at_48k = dsp.resample(speech, 16000, 48000)
    assert float(pipeline.embed(at_48k, 48000).vector @ from_file.vector) > 0.99


def test_different_speakers_get_different_embeddings(pipeline: Pipeline, audio_dir: Path) -> None:
    a = pipeline.embed(audio.decode_audio(audio_dir / "p240_00000.mp3")).vector
    b = pipeline.embed(audio.decode_audio(audio_dir / "1320_00000.mp3")).vector
    assert float(a @ b) < 0.85


def test_embedding_is_usable_as_an_array_and_as_json(
    pipeline: Pipeline, speech: np.ndarray
) -> None:
    voice = pipeline.embed(speech)
    np.testing.assert_array_equal(np.asarray(voice), voice.vector)
    data = json.loads(json.dumps(voice.as_dict()))
    assert len(data["vector"]) == 256 and data["encoder_id"] == voice.encoder_id
    assert set(data) >= {"speech_seconds", "total_seconds", "level_dbfs", "clipped_fraction"}
    assert data["speech_share"] == voice.recording.speech_share


def test_silence_is_refused_as_silent(pipeline: Pipeline) -> None:
    with pytest.raises(RecordingError) as error:
        pipeline.embed(np.zeros(16000 * 4, dtype=np.float32))
    assert error.value.code == "silent"


def test_short_speech_is_refused_unless_the_limit_allows_it(
    pipeline: Pipeline, speech: np.ndarray
) -> None:
    clip = speech[16000 : 16000 + 19200]  # 1.2 s from inside the utterance
    with pytest.raises(RecordingError) as error:
        pipeline.embed(clip)
    assert error.value.code == "too_short"
    voice = pipeline.embed(clip, limits=RecordingLimits(min_speech_seconds=0.5))
    assert voice.recording.speech_seconds < 2.0


def test_clipped_recording_is_refused_as_clipped(pipeline: Pipeline, speech: np.ndarray) -> None:
    loud = np.clip(speech * 30.0, -1.0, 1.0)
    with pytest.raises(RecordingError) as error:
        pipeline.embed(loud)
    assert error.value.code == "clipped"
    assert pipeline.embed(loud, limits=None).vector.shape == (256,)


def test_recording_problems_come_in_the_order_the_user_must_fix_them() -> None:
    limits = RecordingLimits(min_speech_seconds=2.0, silent_dbfs=-55.0, max_clipped_fraction=0.01)

    def stats(speech: float, level: float, clipped: float, share: float = 0.9) -> object:
        return RecordingStats(5.0, speech, level, clipped, share)

    quiet_short_clipped = stats(1.0, -70.0, 0.2, 0.0)
    assert recording_problem(quiet_short_clipped, limits).code == "silent"  # type: ignore
    loud_short_clipped = stats(1.0, -10.0, 0.2, 0.0)
    assert recording_problem(loud_short_clipped, limits).code == "clipped"  # type: ignore
    noise = stats(5.0, -10.0, 0.0, 0.05)
    assert recording_problem(noise, limits).code == "no_speech"  # type: ignore
    short = stats(1.0, -10.0, 0.0)
    assert recording_problem(short, limits).code == "too_short"  # type: ignore
    assert recording_problem(stats(3.0, -10.0, 0.0), limits) is None
    # Shorter than the speech it must hold: too short, whatever it holds.
    brief = RecordingStats(0.05, 0.0, -120.0, 0.5, 0.0)
    assert recording_problem(brief, limits).code == "too_short"  # type: ignore


def test_speak_gives_16k_float_audio_as_long_as_the_decoded_frames(
    pipeline: Pipeline, speech: np.ndarray
) -> None:
    voice = pipeline.embed(speech)
    result = pipeline.speak_detailed("Hello there. How are you today?", voice, FAST)
    assert result.sentences == ["hello there.", "how are you today?"]
    pause = round(FAST.pause_seconds * 16000 / HOP)
    assert result.mel_frames == 2 * STEPS + pause
    wav = finish.finish(result.wav, result.sample_rate, encoding_as_wav()).wav
    assert wav.dtype == np.float32 and result.sample_rate == 16000
    assert np.all(np.isfinite(wav))
    # WaveRNN gives (frames - 1) * hop samples; only trailing silence may be trimmed off.
    assert 0.5 * (result.mel_frames - 1) * HOP < len(wav) <= (result.mel_frames - 1) * HOP
    assert np.max(np.abs(wav)) <= 0.95 + 1e-6
    assert all(t >= 0 for t in (result.times.text, result.times.synthesizer, result.times.vocoder))


def test_griffin_lim_vocoder_option(pipeline: Pipeline) -> None:
    options = SynthesisOptions(max_steps=STEPS, vocoder="griffinlim", deterministic=True)
    made = pipeline.speak("Just one sentence.", random_speaker(), options)
    wav = finish.finish(made, pipeline.sample_rate, encoding_as_wav()).wav
    assert wav.dtype == np.float32 and np.all(np.isfinite(wav))
    assert 0.5 * STEPS * HOP < len(wav) <= STEPS * HOP + 2 * HOP
    assert dsp.rms_dbfs(wav) == pytest.approx(-20.0, abs=3.0)


def test_several_texts_are_spoken_one_after_another(pipeline: Pipeline) -> None:
    options = SynthesisOptions(max_steps=STEPS, vocoder="griffinlim", deterministic=True)
    result = pipeline.speak_detailed(["First part.", "Second part."], random_speaker(), options)
    assert result.sentences == ["first part.", "second part."]


def test_deterministic_synthesis_repeats_exactly(pipeline: Pipeline) -> None:
    speaker = random_speaker(3)
    first = pipeline.speak("Same words.", speaker, FAST)
    second = pipeline.speak("Same words.", speaker, FAST)
    np.testing.assert_array_equal(first, second)


def test_text_without_anything_to_say_is_refused(pipeline: Pipeline) -> None:
    with pytest.raises(NothingToSay) as error:
        pipeline.speak("🙂 🙂 …", random_speaker(), FAST)
    assert error.value.code == "nothing_to_say"
    # The bot's rule (sv2tts.text.has_speakable_text) is the front end's the pipeline uses.
    assert not pipeline.frontend.is_speakable("🙂 🙂 …")


def test_speaker_vector_accepts_lists_and_refuses_wrong_shapes() -> None:
    vector = speaker_vector([1.0] * 256)
    assert vector.shape == (256,) and np.linalg.norm(vector) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="256"):
        speaker_vector(np.ones(255))
    with pytest.raises(ValueError, match="zeros"):
        speaker_vector(np.zeros(256))


def test_length_batches_group_similar_lengths_up_to_the_batch_size() -> None:
    lengths = [40, 10, 12, 41, 11, 100, 39, 13]
    batches = length_batches(lengths, max_batch=3, max_ratio=1.5)
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert all(len(batch) <= 3 for batch in batches)
    for batch in batches:
        sizes = [lengths[i] for i in batch]
        assert max(sizes) <= 1.5 * min(sizes)
    assert [lengths[i] for i in batches[0]] == [10, 11, 12]


def test_padded_batch_pads_with_the_pad_symbol() -> None:
    batch = padded_batch([[5, 6, 1], [7, 1]])
    np.testing.assert_array_equal(batch, [[5, 6, 1], [7, 1, 0]])
    assert batch.dtype == np.int64


def test_joined_mels_put_silent_frames_between_sentences() -> None:
    a, b = np.zeros((80, 5), np.float32), np.ones((80, 7), np.float32)
    joined = joined_mels([a, b], pause=3, floor=-4.0)
    assert joined.shape == (80, 15)
    np.testing.assert_array_equal(joined[:, 5:8], -4.0)
    np.testing.assert_array_equal(joined[:, 8:], 1.0)


def test_encoder_only_load_needs_no_synthesizer(tmp_path: Path, speech: np.ndarray) -> None:
    if bundled_encoder_path() is None:
        pytest.skip("resemblyzer's encoder weights are absent")
    voices = load_voice_encoder(tmp_path, device="cpu")
    assert voices.embed(speech).vector.shape == (256,)
    # A voice encoder is no synthesizer: there is nothing to call that could fail later.
    assert not hasattr(voices, "speak")


def test_full_load_without_synthesizer_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(WeightsError) as error:
        Pipeline.load(tmp_path, device="cpu")
    assert "synthesizer.pt" in str(error.value) and "make weights" in str(error.value)


def test_griffin_lim_pipeline_needs_no_vocoder_file(weights_dir: Path, tmp_path: Path) -> None:
    for name in ("synthesizer.pt", "synthesizer.json"):
        shutil.copyfile(weights_dir / name, tmp_path / name)
    pipeline = Pipeline.load(tmp_path, device="cpu", vocoder="griffinlim")
    assert "wavernn" not in pipeline.vocoders
    options = SynthesisOptions(max_steps=8, deterministic=True)
    assert pipeline.speak("Hi.", random_speaker(), options).size > 0
    with pytest.raises(ValueError, match="WaveRNN"):
        pipeline.speak("Hi.", random_speaker(), SynthesisOptions(vocoder="wavernn"))


def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        choose_device("cuda")
    assert choose_device("auto").type == "cpu"


def test_full_size_random_models_load_strictly_from_the_official_shapes(
    reference_dir: Path,
) -> None:
    shapes = reference_dir / "state_dicts.json"
    synthesizer = random_synthesizer(read_reference_shapes(shapes, "synthesizer"))
    assert synthesizer.reduction_factor == 2
    assert float(synthesizer.stop_threshold) == pytest.approx(-3.4)
    vocoder = random_vocoder(read_reference_shapes(shapes, "vocoder"))
    assert sum(p.numel() for p in vocoder.parameters()) > 4_000_000


def test_forced_decoder_length_is_proportional_to_the_text(reference_dir: Path) -> None:
    speech = random_pipeline(
        "cpu", shapes_path=reference_dir / "state_dicts.json", frames_per_symbol=4.0
    )
    options = SynthesisOptions(vocoder="griffinlim", deterministic=True)
    text = "Short one."
    result = speech.speak_detailed(text, random_speaker(), options)
    symbols = len(speech.frontend.symbols.encode(result.sentences[0]))
    assert result.mel_frames == math.ceil(4.0 * symbols / 2) * 2
    assert isinstance(result.wav, np.ndarray) and result.wav.size > 0


def test_voice_dataclass_is_frozen() -> None:
    voice = Voice(np.ones(256, np.float32) / 16, "x", RecordingStats(1.0, 1.0, -20.0, 0.0, 0.4))
    with pytest.raises(AttributeError):
        voice.encoder_id = "y"  # type: ignore[misc]


def test_likeness_is_computed_from_the_waveform_it_is_given(
    pipeline: Pipeline, audio_dir: Path, speech: np.ndarray
) -> None:
    voice = pipeline.embed(speech)
    own_half = speech[: len(speech) // 2]
    other = audio.decode_audio(audio_dir / "1320_00000.mp3")
    own, others = pipeline.likeness(own_half, voice), pipeline.likeness(other, voice)
    # The voice's own recording sounds like it, another speaker's much less.
    assert own > 0.9 and others < 0.8
    # It is the cosine of the waveform embedded again, so another waveform, another figure.
    again = pipeline.voices.embedding(own_half, 16000)
    assert own == pytest.approx(float(again @ voice.vector), abs=1e-6)
    assert pipeline.likeness(np.zeros(16000 * 3, np.float32), voice) == 0.0


def test_pace_changes_the_length_of_speech(pipeline: Pipeline) -> None:
    # Two seconds: long enough for atempo's windows (tens of ms) not to blur the ratio.
    base = SynthesisOptions(max_steps=160, vocoder="griffinlim", deterministic=True)
    made = pipeline.speak("Just one sentence.", random_speaker(), base)
    normal = finish.finish(made, pipeline.sample_rate, encoding_as_wav()).wav
    faster = finish.finish(made, pipeline.sample_rate, encoding_as_wav(pace=1.5)).wav
    assert len(faster) == pytest.approx(len(normal) / 1.5, rel=0.05)
    with pytest.raises(ValueError, match="pace"):
        finish.Finishing(pace=2.0)


def encoding_as_wav(pace: float = 1.0) -> finish.Finishing:
    return finish.Finishing(pace=pace, encoding="wav")


def test_lines_made_together_are_the_lines_made_one_by_one(pipeline: Pipeline) -> None:
    # A dialogue's lines of one voice: decoded in one batch, vocoded in one run, cut apart.
    # Deterministic decoding and Griffin-Lim make the comparison exact but for the seams.
    options = SynthesisOptions(max_steps=STEPS, vocoder="griffinlim", deterministic=True)
    speaker = random_speaker(5)
    texts = ["First line. It has two sentences.", "🙂", "Third line."]
    lines = pipeline.speak_lines(texts, speaker, options)
    assert [len(w) > 0 for w in lines] == [True, False, True]
    alone = [
        finish.level(pipeline.speak(t, speaker, options), pipeline.sample_rate)
        for t in (texts[0], texts[2])
    ]
    for together, by_itself in zip((lines[0], lines[2]), alone, strict=True):
        assert together.dtype == np.float32
        # Same decoded frames; the cut falls in the silence between the lines.
        assert abs(len(together) - len(by_itself)) <= 2 * round(0.15 * 16000)
        assert dsp.rms_dbfs(together) == pytest.approx(-20.0, abs=3.0)
    with pytest.raises(NothingToSay):
        pipeline.speak_lines(["🙂", "…"], speaker, options)


def test_synthesis_reports_its_progress_stage_by_stage_up_to_the_end(
    pipeline: Pipeline, speech: np.ndarray
) -> None:
    voice = pipeline.embed(speech)
    told: list[tuple[str, float]] = []
    text = "One sentence here. And a second, longer sentence after it. Then a third one."
    wav = pipeline.speak(text, voice, FAST, progress=lambda s, d: told.append((s, d)))
    assert wav.size > 0
    stages = [stage for stage, _ in told]
    first_vocoder = stages.index("vocoder")
    assert set(stages[:first_vocoder]) == {"synthesizer"}
    assert set(stages[first_vocoder:]) == {"vocoder"}
    for stage in ("synthesizer", "vocoder"):
        shares = [done for s, done in told if s == stage]
        assert shares == sorted(shares) and shares[-1] == 1.0 and shares[0] > 0.0
    assert len([s for s in stages if s == "vocoder"]) > 2  # the sample loop reports as it goes
