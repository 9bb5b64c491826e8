"""The synthesizer's training recipe, and the training-set format `preprocess` writes for it.

Training set (what `python -m sv2tts preprocess synthesizer DATASET OUT` writes, and what
`python -m sv2tts train synthesizer OUT RUN_DIR` reads):

    OUT/dataset.json   {"symbols": [...], "cleaners": [...], "language": "en",
                        "signal": {SynthSignal fields: sample_rate, n_fft, hop_length, ...}}
    OUT/train.txt      one utterance a line, fields separated by "|":
                       audio-ID.npy|mel-ID.npy|embed-ID.npy|n_samples|n_frames|text|ids
    OUT/audio/audio-ID.npy   float32 (n_samples,) the 16 kHz waveform the mel was made from
                             (peak 0.9, long silences trimmed)
    OUT/mels/mel-ID.npy      float32 (n_mels, n_frames), `sv2tts.dsp.melspectrogram` of it,
                             in [-4, 4]; n_frames = 1 + n_samples // hop_length
    OUT/embeds/embed-ID.npy  float32 (256,) the speaker encoder's utterance embedding
                             (L2-normalised) of that audio

`ID` is any name without "|" or "/" (unique in the set). `text` is the transcript as read
(for plots and samples; "|" and newlines replaced by spaces). `ids` are the symbol indices
in `dataset.json`'s symbol table, comma-separated, cleaned with its cleaners and ending with
the end symbol 1, exactly what the engine's text front end produces for that text
(`TextFrontend.encode`). Lines are UTF-8; a line starting with "#" is a comment. The order
of the lines does not matter (the loader shuffles).
"""

from __future__ import annotations

# The training set's file names and the field order of train.txt.
DATASET_JSON = "dataset.json"
METADATA_TXT = "train.txt"
AUDIO_DIR = "audio"
MELS_DIR = "mels"
EMBEDS_DIR = "embeds"
METADATA_FIELDS = ("audio", "mel", "embed", "n_samples", "n_frames", "text", "ids")
