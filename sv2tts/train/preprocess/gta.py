"""Ground-truth-aligned (GTA) mels: a trained synthesizer run teacher-forced over the vocoder's
training audio, so that the vocoder learns from the mels it will be given at inference.

As the reference does it: the synthesizer checkpoint (with its sidecar: dims, symbols,
cleaners) in eval mode at its own reduction factor, fed each utterance's symbol ids, speaker
embedding and ground-truth mel (teacher forcing, `Tacotron.forward`) in batches collated as in
training (`sv2tts.synthesizer.train.collate`), pre-net dropout on (Tacotron keeps it on outside
training too; seeded here, so a run is reproducible), zoneout off; the post-net output cut to
the ground truth's length is the GTA mel, (80, n_frames) float32, written to `mels/ID.npy` in
place of the ground truth (which stays in `mels_gt/ID.npy`).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sv2tts.synthesizer.model import SynthesizerConfig, Tacotron, load_synthesizer
from sv2tts.text import TextFrontend, load_text_frontend, sidecar_path
from sv2tts.train.preprocess.process import Outcome

log = logging.getLogger(__name__)

GTA_BATCH_SIZE = 16  # the reference's synthesis batch size
GT_MELS_DIR = "mels_gt"
GTA_SEED = 0


def gta_frontend(checkpoint: Path) -> tuple[TextFrontend, str]:
    """The text front end and language of a synthesizer checkpoint (its sidecar's)."""
    sidecar = sidecar_path(checkpoint)
    frontend = load_text_frontend(sidecar if sidecar.is_file() else None)
    language = "en"
    if sidecar.is_file():
        declared = json.loads(sidecar.read_text(encoding="utf-8")).get("language")
        if isinstance(declared, str) and declared:
            language = declared
        elif any(name.startswith("russian") for name in frontend.cleaners):
            language = "ru"
    return frontend, language


def load_gta_synthesizer(checkpoint: Path) -> Tacotron:
    sidecar = sidecar_path(checkpoint)
    config = SynthesizerConfig.from_dict(
        json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else {}
    )
    return load_synthesizer(checkpoint, config)


@torch.no_grad()
def gta_mels(
    model: Tacotron, items: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> list[np.ndarray]:
    """GTA mels (80, frames) of (ids, ground-truth mel, embedding) items, one batch."""
    from sv2tts.synthesizer.train import SynthesizerItem, collate

    batch = collate(
        [SynthesizerItem(ids.astype(np.int64), mel, embed) for ids, mel, embed in items],
        r=model.reduction_factor,
    )
    device = next(model.parameters()).device
    outputs = model(
        batch.chars.to(device),
        batch.mels.to(device),
        batch.embeds.to(device),
        dropout=True,
        zoneout=0.0,
    )
    mels = outputs.mels.float().cpu().numpy()
    return [mels[i, :, : mel.shape[1]].astype(np.float32) for i, (_, mel, _) in enumerate(items)]


def write_gta(checkpoint: Path, out_dir: Path, kept: list[Outcome]) -> dict[str, Any]:
    """GTA mels of the kept utterances that have none yet; returns counts for the summary."""
    todo = [o for o in kept if not (out_dir / "mels" / f"{o.id}.npy").is_file()]
    model = load_gta_synthesizer(checkpoint)
    model.eval()
    torch.manual_seed(GTA_SEED)
    todo.sort(key=lambda o: o.n_frames)  # similar lengths together: less padding
    for start in range(0, len(todo), GTA_BATCH_SIZE):
        chunk = todo[start : start + GTA_BATCH_SIZE]
        items = [
            (
                np.asarray(o.ids, dtype=np.int64),
                np.load(out_dir / GT_MELS_DIR / f"{o.id}.npy"),
                np.load(out_dir / "embeds" / f"{o.id}.npy"),
            )
            for o in chunk
        ]
        for outcome, mel in zip(chunk, gta_mels(model, items), strict=True):
            path = out_dir / "mels" / f"{outcome.id}.npy"
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial.npy")
            np.save(partial, mel, allow_pickle=False)
            partial.replace(path)
    log.info("GTA mels: %d written with %s (r=%d)", len(todo), checkpoint, model.reduction_factor)
    return {"gta_written": len(todo), "gta_r": model.reduction_factor}
