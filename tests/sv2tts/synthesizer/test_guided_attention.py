"""The optional diagonal guided-attention loss (off by default: not the reference's)."""

from __future__ import annotations

import torch

from sv2tts.synthesizer.train import SynthesizerTrainConfig, guided_attention_loss


def _batch(n_chars: int, padded: int, steps: int, r: int) -> tuple[torch.Tensor, torch.Tensor]:
    chars = torch.zeros(1, padded, dtype=torch.int64)
    chars[0, :n_chars] = 5
    return chars, torch.tensor([steps * r])


def test_off_by_default() -> None:
    config = SynthesizerTrainConfig()
    assert config.guided_attention == 0.0 and config.guided_attention_g == 0.2
    assert SynthesizerTrainConfig.from_dict(config.to_dict()) == config


def test_diagonal_attention_costs_nothing_and_stuck_attention_costs() -> None:
    n, steps, r = 20, 20, 5
    chars, frames = _batch(n, 24, steps, r)
    diagonal = torch.zeros(1, steps + 3, 24)
    diagonal[0, torch.arange(steps), torch.arange(steps)] = 1.0
    stuck = torch.zeros(1, steps + 3, 24)
    stuck[0, :, 0] = 1.0
    uniform = torch.zeros(1, steps + 3, 24)
    uniform[0, :, :n] = 1.0 / n
    assert float(guided_attention_loss(diagonal, chars, frames, r)) == 0.0
    assert float(guided_attention_loss(stuck, chars, frames, r)) > float(
        guided_attention_loss(uniform, chars, frames, r)
    )
    # Decoder steps past the real ones are not counted.
    late = diagonal.clone()
    late[0, steps:, 0] = 1.0
    assert float(guided_attention_loss(late, chars, frames, r)) == 0.0


def test_attention_on_padding_is_off_the_path() -> None:
    n, steps, r = 10, 10, 5
    chars, frames = _batch(n, 16, steps, r)
    on_padding = torch.zeros(1, steps, 16)
    on_padding[0, :, 15] = 1.0
    # Every real step's whole weight on padding: W = 1 for all of it.
    assert torch.isclose(guided_attention_loss(on_padding, chars, frames, r), torch.tensor(0.1))


def test_gradient_reaches_the_attention() -> None:
    chars, frames = _batch(8, 8, 8, 2)
    weights = torch.full((1, 8, 8), 1 / 8, requires_grad=True)
    guided_attention_loss(weights, chars, frames, 2).backward()
    assert weights.grad is not None and float(weights.grad[0, 0, 7]) > float(weights.grad[0, 0, 0])
