"""Measurements, not tests: each prints the machine it ran on, then its figures.

- `speech`: seconds and real-time factor of each stage of speech (`python -m sv2tts bench`),
  and WaveRNN per fold setting (`python -m sv2tts.bench.speech`).
- `cpu`: WaveRNN's sample loop on the CPU per precision, against the machine's peak.
- `train_synthesizer`, `train_steps`: training steps per second of the full-size
  synthesizer (`python -m sv2tts.bench.train_synthesizer synthesizer`), and of the vocoder
  and the encoder (`python -m sv2tts.bench.train_steps`).
- `learning`, `learning_eval`: a small synthesizer trained on eSpeak NG speech, and how it is
  measured on held-out sentences (`python -m sv2tts.bench.learning`).
- `stress`: how long Russian stress takes (`python -m sv2tts.bench.stress`).
"""
