"""The bot's services, built once in bot/app.py and handed to the handlers by the Dispatcher
(its workflow data, by parameter name): `speech` (SpeechService), `recordings`
(RecordingService), `voices` (VoiceService). Each holds its collaborators (the Bot, settings,
storage, the queue client, the status board...) as attributes, so a handler asks for the one
service it needs and calls one method; what two handlers share lives here, not in a handler
module (no handler module imports another: tests/bot/test_handler_imports.py)."""

from bot.services.asker import Asker
from bot.services.recordings import RecordingService
from bot.services.speech import SpeechService
from bot.services.voices import VoiceService

__all__ = ["Asker", "RecordingService", "SpeechService", "VoiceService"]
