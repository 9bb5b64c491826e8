"""The speaker encoder (GE2E): a recording in, a 256-dimensional voice out.

- `model`: the network (`SpeakerEncoder`, its config, loading the official checkpoint).
- `voices`: `VoiceEncoder` and `Voice`, a recording's samples in, an embedding and its
  measurements out (what the engine runs).
- `train`: the GE2E training recipe (`python -m sv2tts train encoder ...`); `data`: its
  training set and the reference's batch sampling.

Import the modules themselves (`from sv2tts.encoder.model import ...`): this package
imports nothing, so that naming it loads no torch.
"""
