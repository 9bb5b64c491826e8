"""The watermark: the trained network of resemble-perth, rebuilt here, marks and finds its mark.

The rebuild is pinned to the package's own code: its encoder, decoder and dB normalisation
are loaded from the installed wheel (the modules that need neither torchaudio nor
pkg_resources) and must give what ours gives on the same inputs.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from sv2tts.audio.codec import SAMPLE_RATE, decode_audio, encode_mp3, encode_ogg_opus
from sv2tts.watermark.model import (
    CHECKPOINT,
    Spectra,
    WatermarkUnavailable,
    load_watermarker,
    resident_watermarker,
    verdict,
    weights_dir,
)

REF = "perth_reference"  # a package name of our own for the wheel's modules


@pytest.fixture(scope="module")
def speech(audio_dir: Path) -> np.ndarray:
    return decode_audio(sorted(audio_dir.glob("*.mp3"))[0], max_seconds=60)


@pytest.fixture(scope="module")
def reference() -> Iterator[types.SimpleNamespace]:
    """perth's own Encoder, Decoder and magnitude helpers, imported from the wheel's files
    under a package of our own, past the `__init__` modules that import what fails here."""
    root = weights_dir().parents[1]  # .../perth/perth_net
    packages = {
        REF: root.parent,
        f"{REF}.perth_net": root,
        f"{REF}.perth_net.perth_net_implicit": root / "perth_net_implicit",
    }
    for name, path in packages.items():
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module
    try:
        implicit = f"{REF}.perth_net.perth_net_implicit"
        yield types.SimpleNamespace(
            encoder=importlib.import_module(f"{implicit}.model.encoder"),
            decoder=importlib.import_module(f"{implicit}.model.decoder"),
            utils=importlib.import_module(f"{implicit}.utils"),
            config=importlib.import_module(f"{implicit}.config"),
        )
    finally:
        for name in [n for n in sys.modules if n == REF or n.startswith(f"{REF}.")]:
            del sys.modules[name]


def test_the_network_is_perths_own_layer_for_layer(reference: types.SimpleNamespace) -> None:
    ours = load_watermarker().net
    state = torch.load(weights_dir() / CHECKPOINT, map_location="cpu", weights_only=True)["model"]
    theirs_encoder = reference.encoder.Encoder(ours.hp.hidden_size, ours.hp.subband)
    theirs_decoder = reference.decoder.Decoder(ours.hp.hidden_size, ours.hp.subband)
    theirs_encoder.load_state_dict({k[8:]: v for k, v in state.items() if k[:8] == "encoder."})
    theirs_decoder.load_state_dict({k[8:]: v for k, v in state.items() if k[:8] == "decoder."})
    magspec = torch.rand(2, ours.hp.n_fft // 2 + 1, 150, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        marked, _mask = theirs_encoder(magspec)
        torch.testing.assert_close(ours.encoder(magspec), marked)
        torch.testing.assert_close(ours.decoder(marked), theirs_decoder(marked))
        torch.testing.assert_close(ours.decoder(magspec), theirs_decoder(magspec))


def test_magnitudes_are_normalised_as_perth_does(reference: types.SimpleNamespace) -> None:
    hp = load_watermarker().hp
    their_hp = reference.config.default_hp._replace(
        stft_magnitude_min=hp.stft_magnitude_min, n_fft=hp.n_fft
    )
    spectra = Spectra(hp)
    signal = torch.from_numpy(np.random.default_rng(2).standard_normal(32000).astype(np.float32))
    magspec, phase = spectra.magphase(signal)
    spec = torch.stft(
        signal, hp.n_fft, hp.hop_size, hp.window_size, spectra.window, return_complex=True
    )
    their_mag, their_phase = reference.utils.cx_to_magphase(their_hp, spec)
    torch.testing.assert_close(magspec, their_mag)
    back = reference.utils.magphase_to_cx(their_hp, magspec, phase)
    torch.testing.assert_close(
        spectra.signal(magspec, phase, len(signal)),
        torch.istft(
            back, hp.n_fft, hp.hop_size, hp.window_size, spectra.window, length=len(signal)
        ),
    )
    torch.testing.assert_close(phase, their_phase)


def test_marked_speech_is_found_and_the_original_is_not(speech: np.ndarray) -> None:
    marker = resident_watermarker()
    marked = marker.apply(speech, SAMPLE_RATE)
    assert marked.shape == speech.shape and marked.dtype == np.float32
    # Inaudible is the network's claim (psychoacoustic training); what can fail here is a
    # mark so loud that it would be heard: it stays >12 dB under the speech.
    snr = 10 * np.log10(np.sum(speech**2) / np.sum((marked - speech) ** 2))
    assert snr > 12
    assert marker.confidence(marked, SAMPLE_RATE) >= 0.8
    assert marker.confidence(speech, SAMPLE_RATE) < 0.2


@pytest.mark.parametrize(
    "encode",
    [encode_ogg_opus, encode_mp3, lambda wav, sr: encode_ogg_opus(wav, sr, bitrate="16k")],
    ids=["opus-voice-note", "mp3", "opus-16k"],
)
def test_the_mark_survives_lossy_encoding(speech: np.ndarray, encode: object) -> None:
    marker = resident_watermarker()
    again = decode_audio(encode(marker.apply(speech, SAMPLE_RATE), SAMPLE_RATE))  # type: ignore[operator]
    plain = decode_audio(encode(speech, SAMPLE_RATE))  # type: ignore[operator]
    assert verdict(marker.confidence(again, SAMPLE_RATE)) == "found"
    assert verdict(marker.confidence(plain, SAMPLE_RATE)) == "absent"


def test_silence_and_scraps_are_not_marked_and_do_not_break_the_detector() -> None:
    marker = resident_watermarker()
    assert marker.confidence(np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE) == 0.0
    scrap = np.full(100, 0.1, np.float32)
    assert np.array_equal(marker.apply(scrap, SAMPLE_RATE), scrap)
    assert marker.confidence(scrap, SAMPLE_RATE) == 0.0


def test_verdicts_have_a_band_of_doubt_between_found_and_absent() -> None:
    assert [verdict(c) for c in (0.0, 0.19, 0.2, 0.5, 0.79, 0.8, 1.0)] == [
        "absent",
        "absent",
        "unclear",
        "unclear",
        "unclear",
        "found",
        "found",
    ]


def test_a_folder_without_the_network_says_so(tmp_path: Path) -> None:
    with pytest.raises(WatermarkUnavailable, match="no trained watermark network"):
        load_watermarker(tmp_path)
