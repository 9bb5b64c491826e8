"""The synthesizer: Tacotron conditioned on a speaker embedding, text in, mel out.

- `model`: the network (`Tacotron`, its config, loading the official checkpoint).
- `train`: the training recipe (`python -m sv2tts train synthesizer ...`) and the format of
  its training set; `data`: reading that set and building the reference's batches.

Import the modules themselves (`from sv2tts.synthesizer.model import ...`): this package
imports nothing, so that naming it loads no torch.
"""
