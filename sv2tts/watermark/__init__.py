"""The audio watermark: the network that marks every note the bot sends and finds the mark
again (`/check`), beside the three networks of SV2TTS."""
