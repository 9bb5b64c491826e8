"""What an encoded file is, read from its first bytes: the one definition the tests share.

`tests/sv2tts/test_finish.py` checks that each encoding of the finishing ladder is what it
says (the authoritative test of the output formats); the CLI's and the worker's tests only
check that they asked for the right one, through `container`.
"""

from __future__ import annotations


def container(data: bytes) -> str | None:
    """ "voice" (Ogg with an Opus stream in its first page), "mp3" (an ID3 tag or an MPEG
    frame sync), "wav" (RIFF/WAVE), or None."""
    if data[:4] == b"OggS" and 0 < data.find(b"OpusHead") < 100:
        return "voice"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    return None
