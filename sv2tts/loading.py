"""Loading: weights files checked and read into resident models, once per process.

    encoder = load_voice_encoder("pretrained", device="auto")      # voices only
    speech = load_speech("pretrained", device="auto", vocoder="wavernn")

Each function resolves its files first (`sv2tts.weights`: WeightsError naming the missing or
corrupt file and the command that fixes it, before anything is unpickled), reads a custom
model's sidecar config where there is one, loads strictly, and moves the models to the
device. Running them is `sv2tts.encoder.voices` and `sv2tts.speech`; `sv2tts.pipeline` holds both.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sv2tts.choices import VOCODERS, VocoderName
from sv2tts.devices import choose_device
from sv2tts.encoder.model import EncoderConfig, load_encoder
from sv2tts.encoder.voices import VoiceEncoder
from sv2tts.speech import Speech
from sv2tts.synthesizer.model import SynthesizerConfig, config_from_dict, load_synthesizer
from sv2tts.text import default_text_frontend, load_text_frontend
from sv2tts.text.stress import shared_stresser
from sv2tts.vocoder.model import VocoderConfig, load_vocoder
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


def load_speech(
    weights_dir: Path | str = "pretrained",
    *,
    device: str = "auto",
    vocoder: VocoderName = "wavernn",
    manifest: Manifest | None = None,
    stress: bool = True,
) -> Speech:
    """Tacotron, its text front end and (for vocoder="wavernn") WaveRNN on `device`.

    With vocoder="griffinlim" no vocoder.pt is needed. `stress`: Russian is read with word
    stress and ё (the process's one silero-stress model, loaded on the first Russian
    sentence: sv2tts.text.stress); False reads it by the unstressed rules.
    """
    if vocoder not in VOCODERS:
        raise ValueError(f"vocoder must be one of {', '.join(VOCODERS)}, not {vocoder!r}")
    target = choose_device(device)
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
    speech = Speech(
        synthesizer=synthesizer,
        frontend=frontend,
        device=target,
        wavernn=wavernn,
        default_vocoder=vocoder,
        weights={"files": {name: describe_weights(r) for name, r in resolved.items()}},
    )
    log.info("speech ready on %s: %s", target, json.dumps(speech.describe()))
    return speech
