"""A tiny synthesizer training set made from ../shared/audio, in the format of
`sv2tts.synthesizer.train` (what `preprocess synthesizer` writes), and the tiny config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sv2tts.audio import dsp
from sv2tts.audio.codec import decode_audio
from sv2tts.text import default_text_frontend

# The transcripts are not what is said: the loop does not care, and nothing here is meant
# to learn (the learning demonstration is eSpeak's, with known text).
TEXTS = (
    "Hello, this is a test.",
    "The quick brown fox.",
    "It costs twelve dollars.",
    "A short line.",
    "Training step by step.",
    "One more sentence here.",
)

TINY_MODEL = {
    "embed_dims": 32,
    "encoder_dims": 16,
    "decoder_dims": 32,
    "postnet_dims": 24,
    "encoder_K": 3,
    "lstm_dims": 48,
    "postnet_K": 3,
    "num_highways": 2,
}


def tiny_config(batch_size: int = 4, until: int = 1000) -> dict[str, object]:
    """A training config of the tiny network (the dims of synthesizer_tiny.json)."""
    return {
        "model": TINY_MODEL,
        "schedule": [[2, 1e-3, until, batch_size]],
        "loader_workers": 0,
    }


def make_training_set(audio_dir: Path, out: Path, seconds: float = 0.8) -> Path:
    """One utterance of `seconds` per recording (peak 0.9, silences trimmed), random unit
    speaker embeddings (one per recording), the default English symbol table."""
    frontend = default_text_frontend()
    for folder in ("audio", "mels", "embeds"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lines = []
    for index, path in enumerate(sorted(audio_dir.glob("*.mp3"))):
        wav = dsp.trim_long_silences(dsp.rescale_peak(decode_audio(path), 0.9))
        wav = wav[3200 : 3200 + int(seconds * 16000) - index * 800]
        mel = dsp.melspectrogram(wav)
        embed = rng.standard_normal(256).astype(np.float32)
        embed /= np.linalg.norm(embed)
        name = path.stem
        np.save(out / "audio" / f"audio-{name}.npy", wav.astype(np.float32))
        np.save(out / "mels" / f"mel-{name}.npy", mel)
        np.save(out / "embeds" / f"embed-{name}.npy", embed)
        text = TEXTS[index % len(TEXTS)]
        ids = ",".join(str(i) for i in frontend.encode(text))
        lines.append(
            f"audio-{name}.npy|mel-{name}.npy|embed-{name}.npy|{len(wav)}|{mel.shape[1]}|{text}|{ids}"
        )
    (out / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    info = {
        "symbols": list(frontend.symbols.symbols),
        "cleaners": list(frontend.cleaners),
        "language": "en",
        "signal": {"sample_rate": 16000, "hop_length": 200, "max_abs_value": 4.0},
    }
    (out / "dataset.json").write_text(json.dumps(info), encoding="utf-8")
    return out
