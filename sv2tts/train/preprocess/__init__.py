"""Datasets in, training sets out: `python -m sv2tts preprocess synthesizer|vocoder|encoder`.

- `datasets`: readers of the layouts corpora are shared in (LibriSpeech, LibriTTS, LJSpeech
  and M-AILABS/RUSLAN, Common Voice, a plain folder of audio with `.txt` beside), detected.
- `process`: one utterance through the engine's own decoder and signal path (a mel made for
  training is the mel inference makes), and its files.
- `run`: a whole dataset in worker processes, resumable, with the index files and a summary.
- `gta`: ground-truth-aligned mels from a trained synthesizer, run teacher-forced.
- `symbols`: the symbol set a training set is written in, by name.
- `cli`: the command line.
"""
