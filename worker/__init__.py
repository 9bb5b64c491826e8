"""The RQ worker that owns the SV2TTS models. Importing this package is light: no torch."""
