"""The vocoder: WaveRNN, mel in, waveform out.

- `model`: the network (`WaveRNN`, its config, loading the official checkpoint) and its
  plain sample loop, the reference's recurrence step by step.
- `fast`: the same sample loop made fast (work hoisted out of the loop, prepacked float32,
  bfloat16 or int8 products), pinned to the plain one by the tests.
- `train`: the training recipe (`python -m sv2tts train vocoder ...`) and its training set.

Import the modules themselves (`from sv2tts.vocoder.model import ...`): this package
imports nothing, so that naming it loads no torch.
"""
