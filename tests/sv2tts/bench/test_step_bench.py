"""The training-speed benchmark times real optimisation steps of the recipes (tiny sizes here;
the figures come from `python -m sv2tts.bench.train_steps` at full size)."""

from __future__ import annotations

import numpy as np
import torch

from sv2tts.bench.train_steps import encoder_batch, step_times, vocoder_batch
from sv2tts.encoder.model import EncoderConfig
from sv2tts.encoder.train import EncoderRecipe, EncoderTrainConfig
from sv2tts.vocoder.model import VocoderConfig
from sv2tts.vocoder.train import VocoderRecipe, VocoderTrainConfig


def test_bench_batches_have_the_recipes_shapes_and_steps_are_timed() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    small = VocoderConfig(rnn_dims=8, fc_dims=8, compute_dims=8, res_out_dims=8, res_blocks=1)
    vocoder = VocoderRecipe(VocoderTrainConfig(model=small, batch_size=2))
    batch = vocoder_batch(vocoder, rng)
    assert batch.mels.shape == (2, 80, 9) and batch.x.shape == batch.y.shape == (2, 1000)
    assert int(batch.y.max()) < 512 and float(batch.x.abs().max()) <= 1.0
    times = step_times(vocoder, batch, torch.device("cpu"), steps=2, warmup=0)
    assert len(times) == 2 and min(t.wall for t in times) > 0

    encoder = EncoderRecipe(
        EncoderTrainConfig(
            model=EncoderConfig(hidden_size=8, num_layers=1, embedding_size=4, partial_frames=5),
            speakers_per_batch=3,
            utterances_per_speaker=2,
        )
    )
    frames = encoder_batch(encoder, rng)
    assert frames.frames.shape == (6, 5, 40) and frames.speakers == 3
    assert len(step_times(encoder, frames, torch.device("cpu"), steps=1)) == 1
