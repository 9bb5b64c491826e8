"""A worker process's settings: the shared ones (service.settings) and the engine's.

Where the weights are, which device runs them and with how many CPU threads. The bot's
settings (webhook, access lists, rate limits) are not here: a worker on another host needs
only the Bot API, Redis and its models.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field

from service.settings import RecordingLimitSettings, load
from sv2tts.choices import DEVICES

# The engine's device names (auto, cpu, cuda), as an enum the settings validate against.
Device = StrEnum("Device", [(name, name) for name in DEVICES])  # type: ignore[misc]


class WorkerSettings(RecordingLimitSettings):
    sv2tts_weights_dir: Path = Path("pretrained")
    device: Device = Device.auto
    torch_threads: int = Field(
        0,
        ge=0,
        description="CPU threads of torch in each worker; 0 = torch's default (one per core). "
        "One worker alone on a machine: as many as cores; several workers sharing it: 1 each",
    )
    stress_preload: bool = Field(
        True,
        description="Load the Russian stress model (a few seconds) before the worker says it "
        "is ready, not inside the first Russian job's time",
    )


def load_settings(**overrides: object) -> WorkerSettings:
    """The worker's settings; on error, one line naming the variable, then exit 2."""
    return load(WorkerSettings, **overrides)
