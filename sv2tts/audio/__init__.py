"""Sound in and out, and what a recording must be to make a voice.

- `codec`: decoding untrusted audio (ffmpeg, 16 kHz mono float32), encoding voice notes and
  MP3s, tempo.
- `dsp`: the signal path shared by inference and training (resampling, trimming, mels).
- `recording`: the checks a recording must pass (`RecordingLimits`, `measure_recording`).
- `measures`: `RecordingStats`, the one type for what a recording measured (no dependencies:
  the bot's storage keeps it).
- `speech_detector`: the trained voice-activity detector the checks use.

Import the modules themselves: this package imports nothing, so that `sv2tts.audio.measures`
stays as light as it is.
"""
