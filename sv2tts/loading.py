"""Loading: weights files checked and read into resident models, once per process.

    encoder = load_voice_encoder("pretrained", device="auto")      # voices only
    models = load_speech_models("pretrained", vocoder="wavernn")    # what Pipeline.load holds

Each function resolves its files first (`sv2tts.weights`: WeightsError naming the missing or
corrupt file and the command that fixes it, before anything is unpickled), reads a custom
model's sidecar config where there is one and loads strictly. `sv2tts.pipeline.Pipeline.load`
puts them together on one device; `load_voice_encoder` alone serves what only makes voices.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, NamedTuple

from sv2tts.choices import VOCODERS, VocoderName
from sv2tts.devices import choose_device
from sv2tts.encoder.model import EncoderConfig, load_encoder
from sv2tts.encoder.voices import VoiceEncoder
from sv2tts.synthesizer.model import SynthesizerConfig, Tacotron, config_from_dict, load_synthesizer
from sv2tts.text import TextFrontend, default_text_frontend, load_text_frontend
from sv2tts.text.stress import shared_stresser
from sv2tts.vocoder.model import VocoderConfig, WaveRNN, load_vocoder
from sv2tts.weights.manifest import Manifest, ResolvedWeights, read_manifest, resolve_weights

log = logging.getLogger(__name__)


def read_sidecar(resolved: ResolvedWeights) -> dict[str, Any]:
    """The custom model's config beside its checkpoint ({} for an official file)."""
    if resolved.sidecar is None:
        return {}
    data = json.loads(resolved.sidecar.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{resolved.sidecar}: a sidecar config must be a JSON object")
    return data


def describe_weights(resolved: ResolvedWeights) -> dict[str, Any]:
    """One file's line in `describe()`: path, hash prefix, official or custom."""
    return {
        "file": str(resolved.path),
        "sha256": resolved.sha256[:16],
        "official": resolved.official,
        **({"config": str(resolved.sidecar)} if resolved.sidecar else {}),
    }


def load_voice_encoder(
    weights_dir: Path | str = "pretrained",
    *,
    device: str = "auto",
    manifest: Manifest | None = None,
) -> VoiceEncoder:
    """The speaker encoder of `weights_dir` (or the one resemblyzer ships) on `device`."""
    target = choose_device(device)
    resolved = resolve_weights(weights_dir, "encoder", manifest or read_manifest())
    config = config_from_dict(EncoderConfig, read_sidecar(resolved), "encoder")
    encoder = VoiceEncoder(
        load_encoder(resolved.path, config),
        device=target,
        encoder_id=resolved.short_id,
        weights={"files": {"encoder": describe_weights(resolved)}},
    )
    log.info("voice encoder ready on %s: %s", target, json.dumps(encoder.describe()))
    return encoder


class SpeechModels(NamedTuple):
    """What speaks, read from the weights directory (on the CPU until a Pipeline moves it)."""

    synthesizer: Tacotron
    frontend: TextFrontend
    wavernn: WaveRNN | None  # None: Griffin-Lim only
    files: dict[str, dict[str, Any]]  # name -> `describe_weights` line


def load_speech_models(
    weights_dir: Path | str = "pretrained",
    *,
    vocoder: VocoderName = "wavernn",
    manifest: Manifest | None = None,
    stress: bool = True,
) -> SpeechModels:
    """Tacotron, its text front end and (for vocoder="wavernn") WaveRNN.

    With vocoder="griffinlim" no vocoder.pt is needed. `stress`: Russian is read with word
    stress and ё (the process's one silero-stress model, loaded on the first Russian
    sentence: sv2tts.text.stress); False reads it by the unstressed rules.
    """
    if vocoder not in VOCODERS:
        raise ValueError(f"vocoder must be one of {', '.join(VOCODERS)}, not {vocoder!r}")
    manifest = manifest or read_manifest()
    names = ["synthesizer"] + (["vocoder"] if vocoder == "wavernn" else [])
    resolved = {name: resolve_weights(weights_dir, name, manifest) for name in names}
    syn = resolved["synthesizer"]
    synthesizer = load_synthesizer(syn.path, SynthesizerConfig.from_dict(read_sidecar(syn)))
    frontend = load_text_frontend(syn.sidecar) if syn.sidecar else default_text_frontend()
    if stress:
        frontend = frontend.with_stresser(shared_stresser())
    if frontend.num_symbols != synthesizer.config.num_chars:
        raise ValueError(
            f"{syn.path}: the text front end has {frontend.num_symbols} symbols, the "
            f"synthesizer's embedding {synthesizer.config.num_chars} rows"
        )
    wavernn = None
    if vocoder == "wavernn":
        voc = resolved["vocoder"]
        wavernn = load_vocoder(voc.path, VocoderConfig.from_dict(read_sidecar(voc)))
    files = {name: describe_weights(r) for name, r in resolved.items()}
    return SpeechModels(synthesizer, frontend, wavernn, files)
