"""The SV2TTS synthesizer: Tacotron conditioned on a speaker embedding.

Text symbols -> character embedding -> encoder pre-net -> CBHG, the speaker embedding
concatenated to every encoder output step. An autoregressive decoder attends over that
sequence with location-sensitive attention (an attention GRU cell), runs two residual LSTM
cells and projects `r` mel frames and a stop token per step. A CBHG post-net refines the whole
mel spectrogram at the end.

The module and parameter names follow the public checkpoints exactly, so that
`load_synthesizer` reads them strictly (see `sv2tts.weights.checkpoint`). `Tacotron.generate` is
inference; `Tacotron.forward` is the teacher-forced training pass (the loop that drives it is
`sv2tts.train`). The model never moves itself to a device (the caller does `.to()`).

Public API: `SynthesizerConfig`, `Tacotron.generate`, `Tacotron.forward`, `Synthesis`,
`TrainingOutputs`, `trimmed_lengths`, `load_synthesizer`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from sv2tts.weights.checkpoint import load_strict, read_model_state

log = logging.getLogger(__name__)

# Keys a sidecar json may carry for the text front end; they do not shape the network.
TEXT_FRONT_END_KEYS = frozenset({"symbols", "cleaners"})


def config_from_dict(cls: type[Any], data: Mapping[str, Any], what: str) -> Any:
    """An instance of the frozen dataclass `cls` from a json-like mapping.

    Text front-end keys are ignored; any other unknown key is refused by name, because a
    misspelt dimension would otherwise silently fall back to its default.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(k for k in data if k not in fields and k not in TEXT_FRONT_END_KEYS)
    if unknown:
        raise ValueError(
            f"{what}: unknown config key(s) {', '.join(repr(k) for k in unknown)}; "
            f"known keys: {', '.join(sorted(fields))}"
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in fields:
            values[key] = tuple(value) if isinstance(value, list) else value
    return cls(**values)


@dataclass(frozen=True)
class SynthesizerConfig:
    """Dimensions of the Tacotron network and the guards of its decoding loop.

    Defaults are the full-size dims of the public checkpoint. The names of the first
    fourteen fields are those of the checkpoints' json files.
    """

    embed_dims: int = 512
    num_chars: int = 66
    encoder_dims: int = 256
    decoder_dims: int = 128
    n_mels: int = 80
    fft_bins: int = 80
    postnet_dims: int = 512
    encoder_K: int = 5
    lstm_dims: int = 1024
    postnet_K: int = 5
    num_highways: int = 4
    dropout: float = 0.5
    stop_threshold: float = -3.4
    speaker_embedding_size: int = 256
    # Reduction factor (frames per decoder step) before a checkpoint's `decoder.r` replaces it.
    r: int = 2
    # mel_proj always has room for this many frames; only the first `r` are used.
    max_r: int = 20
    attention_filters: int = 32
    attention_kernel: int = 31
    # Decoding guards (not in the reference): a step limit proportional to the input length,
    # so that a stuck attention cannot produce 25 s of babble, and a hard cap on top.
    max_frames: int = 2000
    max_frames_per_char: int = 12
    # A stop token may end decoding only once this many frames have been produced.
    min_frames_before_stop: int = 11
    # The stop condition is read back from the device every this many steps, not every step.
    stop_check_interval: int = 8

    def __post_init__(self) -> None:
        if not 1 <= self.r <= self.max_r:
            raise ValueError(f"reduction factor r={self.r} must be within 1..{self.max_r}")
        if self.stop_check_interval < 1 or self.max_frames < 1 or self.max_frames_per_char < 1:
            raise ValueError("decoding guards must be positive")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SynthesizerConfig:
        """The config from a checkpoint json; `symbols`/`cleaners` are ignored, other
        unknown keys raise ValueError."""
        config: SynthesizerConfig = config_from_dict(cls, data, "synthesizer")
        return config


class PreNet(nn.Module):
    """Two ReLU layers with dropout: the bottleneck in front of the encoder and decoder."""

    def __init__(self, in_dims: int, fc1_dims: int, fc2_dims: int, dropout: float) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_dims, fc1_dims)
        self.fc2 = nn.Linear(fc1_dims, fc2_dims)
        self.p = dropout

    def forward(self, x: torch.Tensor, dropout: bool) -> torch.Tensor:
        # Tacotron keeps pre-net dropout on at inference: it is the only source of variation
        # the decoder was trained to expect, and turning it off degrades the output.
        x = F.dropout(F.relu(self.fc1(x)), self.p, training=dropout)
        return F.dropout(F.relu(self.fc2(x)), self.p, training=dropout)


class HighwayNetwork(nn.Module):
    """y = T(x) * relu(H(x)) + (1 - T(x)) * x, with the gate T = sigmoid(W2 x)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.W1 = nn.Linear(size, size)
        self.W2 = nn.Linear(size, size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.W2(x))
        return gate * F.relu(self.W1(x)) + (1.0 - gate) * x


class BatchNormConv(nn.Module):
    """Conv1d (no bias), optional ReLU, then batch norm (in that order, as trained)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, relu: bool = True):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, padding=kernel // 2, bias=False)
        self.bnorm = nn.BatchNorm1d(out_channels)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return self.bnorm(F.relu(x) if self.relu else x)


class CBHG(nn.Module):
    """1-D Convolution Bank + Highway network + bidirectional GRU.

    Input (B, in_channels, T); output (B, T, channels). A bank of K convolutions of widths
    1..K, max pooling along time, two projections with a residual connection to the input,
    highway layers and a bidirectional GRU.
    """

    def __init__(
        self,
        K: int,
        in_channels: int,
        channels: int,
        proj_channels: tuple[int, int],
        num_highways: int,
    ) -> None:
        super().__init__()
        self.conv1d_bank = nn.ModuleList(
            BatchNormConv(in_channels, channels, k) for k in range(1, K + 1)
        )
        self.maxpool = nn.MaxPool1d(kernel_size=2, stride=1, padding=1)
        self.conv_project1 = BatchNormConv(K * channels, proj_channels[0], 3)
        self.conv_project2 = BatchNormConv(proj_channels[0], proj_channels[1], 3, relu=False)
        # The highway input must have `channels` features; the post-net's projection does not.
        self.pre_highway = (
            nn.Linear(proj_channels[1], channels, bias=False)
            if proj_channels[1] != channels
            else None
        )
        self.highways = nn.ModuleList(HighwayNetwork(channels) for _ in range(num_highways))
        self.rnn = nn.GRU(channels, channels // 2, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x
        steps = x.size(-1)
        # Even kernel widths produce one extra step; every branch is cut back to T.
        bank = torch.cat([conv(x)[:, :, :steps] for conv in self.conv1d_bank], dim=1)
        x = self.maxpool(bank)[:, :, :steps]
        x = self.conv_project2(self.conv_project1(x)) + residual
        x = x.transpose(1, 2)
        if self.pre_highway is not None:
            x = self.pre_highway(x)
        for highway in self.highways:
            x = highway(x)
        return self.rnn(x)[0]


class Encoder(nn.Module):
    """Character embedding -> pre-net -> CBHG: (B, T) symbols to (B, T, encoder_dims)."""

    def __init__(self, config: SynthesizerConfig) -> None:
        super().__init__()
        dims = config.encoder_dims
        self.embedding = nn.Embedding(config.num_chars, config.embed_dims)
        self.pre_net = PreNet(config.embed_dims, dims, dims, config.dropout)
        self.cbhg = CBHG(config.encoder_K, dims, dims, (dims, dims), config.num_highways)

    def forward(self, chars: torch.Tensor, dropout: bool) -> torch.Tensor:
        x = self.pre_net(self.embedding(chars), dropout)
        return self.cbhg(x.transpose(1, 2))


class LocationSensitiveAttention(nn.Module):
    """Additive attention whose energies also see the cumulative alignment so far.

    e_i = v^T tanh(W q + V h_i + L conv(sum of previous alignments)_i + b)
    The encoder term V h_i is computed once per utterance (`Tacotron.encoder_proj`).
    """

    def __init__(self, attn_dims: int, filters: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, filters, kernel_size, padding=(kernel_size - 1) // 2)
        self.L = nn.Linear(filters, attn_dims, bias=False)
        self.W = nn.Linear(attn_dims, attn_dims)
        self.v = nn.Linear(attn_dims, 1, bias=False)

    def forward(
        self,
        encoder_seq_proj: torch.Tensor,
        query: torch.Tensor,
        cumulative: torch.Tensor,
        char_mask: torch.Tensor,
    ) -> torch.Tensor:
        """Alignment (B, T) for `query` (B, attn_dims), given cumulative alignment (B, T)."""
        location = self.L(self.conv(cumulative.unsqueeze(1)).transpose(1, 2))
        energies = self.v(torch.tanh(self.W(query).unsqueeze(1) + encoder_seq_proj + location))
        # The checkpoint was trained with padding energies zeroed (not -inf): keep it so,
        # or the alignments, and so the voice, would differ from what it learned.
        return F.softmax(energies.squeeze(-1) * char_mask, dim=1)


class DecoderState(NamedTuple):
    """Recurrent state carried from one decoder step to the next."""

    attn_hidden: torch.Tensor
    rnn1_hidden: torch.Tensor
    rnn1_cell: torch.Tensor
    rnn2_hidden: torch.Tensor
    rnn2_cell: torch.Tensor
    context: torch.Tensor
    cumulative_attention: torch.Tensor


class FusedLSTMWeights(NamedTuple):
    """An LSTM cell's weights as one (input + hidden, 4 * hidden) matrix and one bias."""

    weight: torch.Tensor
    bias: torch.Tensor

    @classmethod
    def of(cls, cell: nn.LSTMCell) -> FusedLSTMWeights:
        weight = torch.cat([cell.weight_ih, cell.weight_hh], dim=1).t().contiguous()
        return cls(weight, cell.bias_ih + cell.bias_hh)

    def step(
        self, x: torch.Tensor, hidden: torch.Tensor, cell: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(hidden, cell) after one step, gates in PyTorch's order (input, forget, cell, out)."""
        gates = torch.addmm(self.bias, torch.cat([x, hidden], dim=1), self.weight)
        in_gate, forget_gate, candidate, out_gate = gates.chunk(4, dim=1)
        cell = torch.sigmoid(forget_gate) * cell + torch.sigmoid(in_gate) * torch.tanh(candidate)
        return torch.sigmoid(out_gate) * torch.tanh(cell), cell


class StepWeights(NamedTuple):
    """Weights of the decoder step prepared once per `generate` call (`Decoder.step_weights`)."""

    mel: torch.Tensor
    lstm1: FusedLSTMWeights
    lstm2: FusedLSTMWeights


def zoned_out(previous: torch.Tensor, new: torch.Tensor, p: float) -> torch.Tensor:
    """Zoneout: each unit keeps its `previous` value with probability p, else takes `new`."""
    keep = torch.empty_like(previous).bernoulli_(p)
    return previous * keep + new * (1.0 - keep)


class Decoder(nn.Module):
    """One autoregressive step: pre-net, attention GRU, attention, residual LSTMs, projections."""

    def __init__(self, config: SynthesizerConfig) -> None:
        super().__init__()
        self.register_buffer("r", torch.tensor(config.r, dtype=torch.int32))
        self.n_mels = config.n_mels
        self.max_r = config.max_r
        context_dims = config.encoder_dims + config.speaker_embedding_size
        prenet_dims = config.decoder_dims * 2
        self.prenet = PreNet(config.n_mels, prenet_dims, prenet_dims, config.dropout)
        self.attn_net = LocationSensitiveAttention(
            config.decoder_dims, config.attention_filters, config.attention_kernel
        )
        self.attn_rnn = nn.GRUCell(context_dims + prenet_dims, config.decoder_dims)
        self.rnn_input = nn.Linear(context_dims + config.decoder_dims, config.lstm_dims)
        self.res_rnn1 = nn.LSTMCell(config.lstm_dims, config.lstm_dims)
        self.res_rnn2 = nn.LSTMCell(config.lstm_dims, config.lstm_dims)
        self.mel_proj = nn.Linear(config.lstm_dims, config.n_mels * config.max_r, bias=False)
        self.stop_proj = nn.Linear(config.lstm_dims + context_dims, 1)

    def step_weights(self, r: int) -> StepWeights:
        """The weights of the step's big matmuls, laid out for inference at reduction `r`.

        Only the rows of mel_proj that produce the first `r` frames are kept (its output is
        laid out (n_mels, max_r)): (max_r - r) / max_r less work, the same numbers. Each
        residual LSTM cell's two matmuls become one over [input, hidden], with the weight
        as a contiguous (in, out) matrix: the step is bound by reading these weights.
        """
        mel = self.mel_proj.weight.view(self.n_mels, self.max_r, -1)[:, :r]
        return StepWeights(
            mel=mel.reshape(self.n_mels * r, -1).t().contiguous(),
            lstm1=FusedLSTMWeights.of(self.res_rnn1),
            lstm2=FusedLSTMWeights.of(self.res_rnn2),
        )

    def forward(
        self,
        prenet_in: torch.Tensor,
        state: DecoderState,
        encoder_seq: torch.Tensor,
        encoder_seq_proj: torch.Tensor,
        char_mask: torch.Tensor,
        weights: StepWeights,
        dropout: bool,
        zoneout: float = 0.0,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, DecoderState]:
        """(frames (B, n_mels, r), alignment (B, T), stop logit (B,), next state).

        zoneout: in training, the probability that each unit of both residual LSTMs' hidden
        states keeps its previous value instead of the new one (the cell state is always
        the new one); 0 at inference.
        """
        prenet_out = self.prenet(prenet_in, dropout)
        attn_hidden = self.attn_rnn(torch.cat([state.context, prenet_out], 1), state.attn_hidden)
        scores = self.attn_net(encoder_seq_proj, attn_hidden, state.cumulative_attention, char_mask)
        context = torch.bmm(scores.unsqueeze(1), encoder_seq).squeeze(1)

        x = self.rnn_input(torch.cat([context, attn_hidden], 1))
        rnn1_hidden, rnn1_cell = weights.lstm1.step(x, state.rnn1_hidden, state.rnn1_cell)
        if zoneout > 0.0:
            rnn1_hidden = zoned_out(state.rnn1_hidden, rnn1_hidden, zoneout)
        x = x + rnn1_hidden
        rnn2_hidden, rnn2_cell = weights.lstm2.step(x, state.rnn2_hidden, state.rnn2_cell)
        if zoneout > 0.0:
            rnn2_hidden = zoned_out(state.rnn2_hidden, rnn2_hidden, zoneout)
        x = x + rnn2_hidden

        frames = torch.mm(x, weights.mel).view(x.size(0), self.n_mels, -1)
        stop_logit = self.stop_proj(torch.cat([x, context], 1)).squeeze(1)
        next_state = DecoderState(
            attn_hidden,
            rnn1_hidden,
            rnn1_cell,
            rnn2_hidden,
            rnn2_cell,
            context,
            state.cumulative_attention + scores,
        )
        return frames, scores, stop_logit, next_state


class TrainingOutputs(NamedTuple):
    """What the teacher-forced `Tacotron.forward` returns (all with gradients).

    decoder_mels: (B, n_mels, frames) before the post-net; mels: (B, n_mels, frames) after
    the post-net; alignments: (B, steps, T) attention weights; stop_tokens: (B, frames) stop
    probabilities, each decoder step's value repeated for its r frames.
    """

    decoder_mels: torch.Tensor
    mels: torch.Tensor
    alignments: torch.Tensor
    stop_tokens: torch.Tensor


class Synthesis(NamedTuple):
    """What `Tacotron.generate` returns; all tensors on the model's device.

    mels: (B, n_mels, frames) post-net mel spectrograms, normalised to [-4, 4];
        sequence b is valid up to lengths[b], the rest is padding from the batch.
    decoder_mels: (B, n_mels, frames) the decoder's output before the post-net.
    alignments: (B, steps, T) attention weights of every decoder step over the input.
    stop_tokens: (B, steps) stop probabilities.
    lengths: (B,) int64 number of valid frames per sequence.
    """

    mels: torch.Tensor
    decoder_mels: torch.Tensor
    alignments: torch.Tensor
    stop_tokens: torch.Tensor
    lengths: torch.Tensor


def trimmed_lengths(
    mels: torch.Tensor, threshold: float, lengths: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-sequence lengths (B,) int64 after dropping trailing frames whose every band is
    below `threshold` (silence at the floor of the normalised range).

    mels: (B, n_mels, frames); lengths: current valid lengths (default: all frames).
    """
    frames = mels.size(-1)
    index = torch.arange(1, frames + 1, device=mels.device)
    audible = mels.amax(dim=1) >= threshold
    if lengths is not None:
        audible &= index.unsqueeze(0) <= lengths.unsqueeze(1)
    return (audible * index).amax(dim=1).to(torch.int64)


class Tacotron(nn.Module):
    """Tacotron with a speaker embedding concatenated to every encoder output step."""

    def __init__(self, config: SynthesizerConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or SynthesizerConfig()
        context_dims = config.encoder_dims + config.speaker_embedding_size
        self.encoder = Encoder(config)
        self.encoder_proj = nn.Linear(context_dims, config.decoder_dims, bias=False)
        self.decoder = Decoder(config)
        self.postnet = CBHG(
            config.postnet_K,
            config.n_mels,
            config.postnet_dims,
            (config.postnet_dims, config.fft_bins),
            config.num_highways,
        )
        self.post_proj = nn.Linear(config.postnet_dims, config.fft_bins, bias=False)
        self.register_buffer("step", torch.zeros(1, dtype=torch.long))
        self.register_buffer(
            "stop_threshold", torch.tensor(config.stop_threshold, dtype=torch.float32)
        )

    @property
    def reduction_factor(self) -> int:
        """Mel frames per decoder step (the checkpoint's `decoder.r`)."""
        return int(self.decoder.r)

    def encode(
        self, chars: torch.Tensor, speaker_embeddings: torch.Tensor, dropout: bool
    ) -> torch.Tensor:
        """Encoder outputs with the speaker embedding appended: (B, T, encoder + speaker)."""
        encoded = self.encoder(chars, dropout)
        speaker = speaker_embeddings.unsqueeze(1).expand(-1, encoded.size(1), -1)
        return torch.cat([encoded, speaker], dim=2)

    def postnet_mels(self, decoder_mels: torch.Tensor) -> torch.Tensor:
        """The post-net's refinement of (B, n_mels, frames) decoder mels, same shape."""
        return self.post_proj(self.postnet(decoder_mels)).transpose(1, 2)

    def step_limits(self, chars: torch.Tensor, r: int) -> torch.Tensor:
        """Per-sequence decoder step limits (B,), proportional to the number of symbols."""
        symbols = (chars != 0).sum(dim=1)
        frames = (symbols * self.config.max_frames_per_char).clamp(1, self.config.max_frames)
        return torch.div(frames + r - 1, r, rounding_mode="floor")

    def initial_state(self, batch: int, chars: int, like: torch.Tensor) -> DecoderState:
        c = self.config

        def zeros(*shape: int) -> torch.Tensor:
            return like.new_zeros(shape)

        return DecoderState(
            attn_hidden=zeros(batch, c.decoder_dims),
            rnn1_hidden=zeros(batch, c.lstm_dims),
            rnn1_cell=zeros(batch, c.lstm_dims),
            rnn2_hidden=zeros(batch, c.lstm_dims),
            rnn2_cell=zeros(batch, c.lstm_dims),
            context=zeros(batch, c.encoder_dims + c.speaker_embedding_size),
            cumulative_attention=zeros(batch, chars),
        )

    def forward(
        self,
        chars: torch.Tensor,
        mels: torch.Tensor,
        speaker_embeddings: torch.Tensor,
        *,
        dropout: bool = True,
        zoneout: float = 0.1,
    ) -> TrainingOutputs:
        """The teacher-forced training pass over padded target mels, as Tacotron trains.

        chars: (B, T) int64 symbol ids padded with 0; mels: (B, n_mels, frames) targets,
        frames a multiple of the reduction factor r (`decoder.r`); speaker_embeddings:
        (B, speaker_embedding_size). Decoder step i is fed target frame r*i - 1 (the last
        frame of the previous group; a zero frame at step 0), padded frames like real ones.
        dropout: pre-net dropout (the reference applies it always); zoneout: the decoder
        LSTMs' zoneout probability, applied only while the module is in training mode.
        Counts the step: the `step` buffer is incremented (in training mode).
        """
        if self.training:
            self.step += 1
        batch, _, frames = mels.shape
        r = self.reduction_factor
        if frames % r:
            raise ValueError(f"{frames} target frames are not a multiple of r={r}")
        encoder_seq = self.encode(chars, speaker_embeddings, dropout)
        encoder_seq_proj = self.encoder_proj(encoder_seq)
        char_mask = (chars != 0).to(encoder_seq.dtype)
        weights = self.decoder.step_weights(r)
        zoneout = zoneout if self.training else 0.0

        state = self.initial_state(batch, chars.size(1), encoder_seq)
        prenet_in = mels.new_zeros(batch, self.config.n_mels)  # the <GO> frame
        decoder_mels, alignments, stop_tokens = [], [], []
        for start in range(0, frames, r):
            if start > 0:
                prenet_in = mels[:, :, start - 1]
            step_frames, scores, stop_logit, state = self.decoder(
                prenet_in,
                state,
                encoder_seq,
                encoder_seq_proj,
                char_mask,
                weights,
                dropout,
                zoneout,
            )
            decoder_mels.append(step_frames)
            alignments.append(scores)
            stop_tokens.append(torch.sigmoid(stop_logit).unsqueeze(1).expand(-1, r))
        decoder_out = torch.cat(decoder_mels, dim=2)
        return TrainingOutputs(
            decoder_mels=decoder_out,
            mels=self.postnet_mels(decoder_out),
            alignments=torch.stack(alignments, dim=1),
            stop_tokens=torch.cat(stop_tokens, dim=1),
        )

    @torch.inference_mode()
    def generate(
        self,
        chars: torch.Tensor,
        speaker_embeddings: torch.Tensor,
        *,
        max_steps: int | None = None,
        force_steps: int | None = None,
        deterministic: bool = False,
    ) -> Synthesis:
        """Mel spectrograms for a batch of symbol sequences, one voice each.

        chars: (B, T) int64 symbol ids, padded with 0, each ending with the end symbol 1.
        speaker_embeddings: (B, speaker_embedding_size) float, L2-normalised.
        max_steps: an extra cap on decoder steps (each step makes `reduction_factor` frames).
            By default sequence b may take at most min(config.max_frames,
            config.max_frames_per_char * symbols_b) frames.
        force_steps: run exactly this many decoder steps, ignoring stop tokens and limits
            (benchmarks, conformance); lengths are then all the frames.
        deterministic: disable pre-net dropout (which stays on at inference by default, as
            in Tacotron), for reproducible output.

        Otherwise decoding ends when every sequence's stop token has exceeded 0.5 (after
        config.min_frames_before_stop frames) or reached its limit. Sequence b's length ends
        at its own stop step or limit, and trailing frames whose every band is below the
        stop threshold are trimmed. Runs on the device of the model; inputs must be there.
        """
        self.eval()
        dropout = not deterministic
        batch, symbols = chars.shape
        r = self.reduction_factor
        encoder_seq = self.encode(chars, speaker_embeddings, dropout)
        encoder_seq_proj = self.encoder_proj(encoder_seq)
        char_mask = (chars != 0).to(encoder_seq.dtype)
        weights = self.decoder.step_weights(r)

        if force_steps is not None:
            if force_steps < 1:
                raise ValueError(f"force_steps must be positive, got {force_steps}")
            steps = force_steps
            limits = torch.full((batch,), steps, device=chars.device)
        else:
            limits = self.step_limits(chars, r)
            if max_steps is not None:
                limits = limits.clamp(max=max(1, max_steps))
            steps = int(limits.max())

        n_mels = self.config.n_mels
        decoder_mels = encoder_seq.new_zeros(batch, n_mels, steps * r)
        alignments = encoder_seq.new_zeros(batch, steps, symbols)
        stop_tokens = encoder_seq.new_zeros(batch, steps)
        # ends[b]: number of steps sequence b keeps (its stop step + 1, or its limit).
        ends = limits.clone()
        state = self.initial_state(batch, symbols, encoder_seq)
        prenet_in = encoder_seq.new_zeros(batch, n_mels)  # the <GO> frame
        min_stop_step = math.ceil(self.config.min_frames_before_stop / r)
        interval = self.config.stop_check_interval

        taken = steps
        for step in range(steps):
            frames, scores, stop_logit, state = self.decoder(
                prenet_in, state, encoder_seq, encoder_seq_proj, char_mask, weights, dropout
            )
            decoder_mels[:, :, step * r : (step + 1) * r] = frames
            alignments[:, step] = scores
            stop = torch.sigmoid(stop_logit)
            stop_tokens[:, step] = stop
            prenet_in = frames[:, :, -1]
            if force_steps is not None or step < min_stop_step:
                continue
            ends = torch.where(stop > 0.5, ends.clamp(max=step + 1), ends)
            # Reading the condition back costs a device sync: only every `interval` steps.
            if (step + 1) % interval == 0 and bool((ends <= step + 1).all()):
                taken = step + 1
                break

        if force_steps is None:
            taken = min(taken, int(ends.max()))
        decoder_mels = decoder_mels[:, :, : taken * r]
        mels = self.postnet_mels(decoder_mels)
        if force_steps is None:
            lengths = trimmed_lengths(mels, float(self.stop_threshold), ends.clamp(max=taken) * r)
        else:
            lengths = torch.full((batch,), taken * r, dtype=torch.int64, device=mels.device)
        log.debug("decoded %d steps (r=%d) for a batch of %d", taken, r, batch)
        return Synthesis(mels, decoder_mels, alignments[:, :taken], stop_tokens[:, :taken], lengths)


def load_synthesizer(path: Path | str, config: SynthesizerConfig | None = None) -> Tacotron:
    """A Tacotron in eval mode on the CPU with the checkpoint's weights, loaded strictly.

    The optimizer state is dropped; the reduction factor and stop threshold come from the
    checkpoint's buffers. Move it with `.to(device)`.
    """
    model = Tacotron(config)
    load_strict(model, read_model_state(path), f"synthesizer {Path(path).name}")
    model.eval()
    log.info("loaded synthesizer %s (r=%d)", path, model.reduction_factor)
    return model
