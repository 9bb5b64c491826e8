"""Training the three SV2TTS networks: preprocess datasets, train, fine-tune.

What lives where:

- `loop`: the `Recipe` protocol (what a network must say about itself to be trained) and the
  `Trainer` that runs any recipe: steps, schedule, AMP, clipping, checkpoints, samples, logs,
  Ctrl-C, `torchrun`.
- `checkpoints`: the official checkpoint format (`model_state`, `optimizer_state`, `step`)
  plus the sidecar json the engine reads; `--init` (fine-tune, symbol tables remapped) and
  `--resume`.
- `logs`: TensorBoard, a plain CSV of the same scalars, the tqdm progress bar.
- `distributed`: process groups for `torchrun` (gloo on CPU, nccl on CUDA) and DDP.
- `cli`: `python -m sv2tts train NET TRAINING_SET RUN_DIR [options]`.
- `plots`: samples (attention and mel PNGs via matplotlib's Agg backend, wavs).
- `preprocess`: datasets in, training sets out (`python -m sv2tts preprocess`).
- `espeak`: speech with known text from eSpeak NG (the learning bench's, `sv2tts.bench`).

Each network's recipe lives beside the network: `sv2tts.synthesizer.train`,
`sv2tts.vocoder.train`, `sv2tts.encoder.train`, each with its `...TrainConfig` (the
reference's hyper-parameters as defaults) and its training-set format, and the readers of
those sets (`sv2tts.synthesizer.data`, `sv2tts.encoder.data`).

Everything here imports torch: the bot never imports this package.
"""
