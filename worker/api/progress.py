"""Progress of a synth job a worker is making (worker/progress.py writes it, the bot's status
message reads it: bot/progress.py): one small hash per job, rewritten at most every second
or two while the job runs, gone with the job (and after PROGRESS_TTL at the latest)."""

from __future__ import annotations

from dataclasses import dataclass

PROGRESS_TTL = 15 * 60


@dataclass(frozen=True, slots=True)
class JobProgress:
    """How far a job is: `percent` 0..100, `seconds_left` None when not known yet."""

    percent: int
    seconds_left: int | None

    def to_hash(self) -> dict[str, str]:
        left = -1 if self.seconds_left is None else self.seconds_left
        return {"percent": str(self.percent), "left": str(left)}

    @classmethod
    def from_hash(cls, data: dict[bytes, bytes] | dict[str, str]) -> JobProgress | None:
        """The progress in a hash read from Redis, or None when it is absent or unreadable
        (Redis is not trusted: numbers are parsed and bounded, nothing else is read)."""
        values = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in data.items()
        }
        try:
            percent = int(values["percent"])
            left = int(values.get("left", "-1"))
        except (KeyError, ValueError):
            return None
        if not 0 <= percent <= 100:
            return None
        return cls(percent, None if left < 0 else min(left, 24 * 3600))
