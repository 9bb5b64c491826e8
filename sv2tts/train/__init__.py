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
- `synthesizer`, `vocoder`, `encoder`: one recipe per network, with its `...TrainConfig`
  (the reference's hyper-parameters as defaults) and its training-set format;
  `synthesizer_data` reads the synthesizer's training set and builds its batches.
- `plots`: samples (attention and mel PNGs via matplotlib's Agg backend, wavs).
- `preprocess`: datasets in, training sets out (`python -m sv2tts preprocess`).
- `espeak`, `learning_bench`: speech with known text from eSpeak NG, and the demonstration
  that a small synthesizer learns from it.

Everything here imports torch: the bot never imports this package.
"""
