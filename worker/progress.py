"""How far a synth job is, told to the bot through Redis, and the time it will still take.

    pace = resident_pace()                          # this worker's measured speed
    with ProgressReport(redis, job_id, len(text), pace) as report:
        wav = engine.speak(text, embedding, progress=report.stage)

The engine tells the report where it is (sv2tts.speech.Progress: the synthesizer after each
batch of sentences, the vocoder's sample loop now and then); that costs a float stored, no
I/O. A thread of the report writes the job's hash (worker.api.progress_key) at most every
WRITE_EVERY seconds and only when the figures changed: a few writes per job, not per step.

The share done weighs the two stages by the share of time the synthesizer took on this
worker's recent jobs, and the time left blends two measurements: this worker's recent
seconds per character of text (an exponential moving average over its jobs, `JobPace`),
trusted at the start, and the job's own rate so far, trusted more as it goes. Before the
first job has finished nothing is measured: the share done is shown, the time left is not.

The same thread looks for the user's cancel (one EXISTS a round): once it is there, the
engine's next report raises `Stopped`, so a cancelled job stops making audio nobody will get
instead of finishing it first.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from redis import Redis
from redis.exceptions import RedisError

from worker.api import PROGRESS_TTL, JobProgress, progress_key
from worker.queue.delivery import cancel_requested

log = logging.getLogger(__name__)

WRITE_EVERY = 1.5  # seconds between two writes of one job's progress, at the most
PACE_WEIGHT = 0.3  # of the newest job in the moving averages
# The synthesizer's share of a job's time until this worker has measured one: the vocoder
# is most of the work with WaveRNN on any device (README, "Speed"), Griffin-Lim or not.
FIRST_SYNTH_SHARE = 0.25


class Stopped(Exception):
    """The job was cancelled while the engine worked on it."""


class JobPace:
    """What this worker measured on its recent jobs: seconds per character of text and the
    synthesizer's share of that time (moving averages). One per process; thread-safe."""

    def __init__(self, weight: float = PACE_WEIGHT) -> None:
        self.weight = weight
        self.seconds_per_char: float | None = None
        self.synth_share = FIRST_SYNTH_SHARE
        self._lock = threading.Lock()

    def learn(self, chars: int, seconds: float, synth_share: float | None) -> None:
        """Fold a finished job in: `chars` of text made in `seconds`."""
        if chars <= 0 or seconds <= 0:
            return
        with self._lock:
            rate = seconds / chars
            old = self.seconds_per_char
            self.seconds_per_char = rate if old is None else old + self.weight * (rate - old)
            if synth_share is not None and 0.0 <= synth_share <= 1.0:
                self.synth_share += self.weight * (synth_share - self.synth_share)

    def expected_seconds(self, chars: int) -> float | None:
        with self._lock:
            return None if self.seconds_per_char is None else self.seconds_per_char * chars


@functools.cache
def resident_pace() -> JobPace:
    """This process's pace (it learns from every job the process runs)."""
    return JobPace()


def seconds_left(elapsed: float, done: float, expected: float | None) -> float | None:
    """Time still to go after `elapsed` seconds with the share `done` finished: the recent
    jobs' `expected` total at first, this job's own rate as it gets further."""
    own = elapsed / done if done >= 0.05 else None
    if own is None and expected is None:
        return None
    if own is None:
        total = expected
    elif expected is None:
        total = own
    else:
        total = (1.0 - done) * expected + done * own
    assert total is not None
    return max(0.0, total - elapsed)


class ProgressReport:
    """The progress of one job, written to Redis by a thread while the block runs."""

    def __init__(
        self,
        redis: Redis,
        job_id: str,
        chars: int,
        pace: JobPace,
        every: float = WRITE_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.job_id = job_id
        self.key = progress_key(job_id)
        self.chars = chars
        self.pace = pace
        self.every = every
        self.clock = clock
        self.expected = pace.expected_seconds(chars)
        self.synth_share = pace.synth_share
        self.started = clock()
        self.synth_done = 0.0
        self.vocoder_done = 0.0
        self.vocoder_started: float | None = None
        self.writes = 0
        self.cancelled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"progress-{job_id}", daemon=True)

    def stage(self, stage: str, done: float) -> None:
        """The engine's callback (sv2tts.speech.Progress); Stopped once the job is cancelled."""
        if self.cancelled:
            raise Stopped(self.key)
        if stage == "synthesizer":
            self.synth_done = max(self.synth_done, min(1.0, done))
        elif stage == "vocoder":
            if self.vocoder_started is None:
                self.vocoder_started = self.clock()
            self.synth_done = 1.0
            self.vocoder_done = max(self.vocoder_done, min(1.0, done))

    def share_done(self) -> float:
        return self.synth_share * self.synth_done + (1.0 - self.synth_share) * self.vocoder_done

    def current(self) -> JobProgress:
        done = self.share_done()
        left = seconds_left(self.clock() - self.started, done, self.expected)
        # 100 % only once the note is made: rounding must not promise it earlier.
        percent = min(99, int(done * 100))
        return JobProgress(percent, None if left is None else round(left))

    def write(self, progress: JobProgress) -> None:
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(self.key, mapping=progress.to_hash())
                pipe.expire(self.key, PROGRESS_TTL)
                pipe.execute()
            self.writes += 1
        except RedisError as error:  # a display: never fail a job over it
            log.debug("progress of %s not written: %s", self.key, error)

    def _run(self) -> None:
        last: JobProgress | None = None
        while True:
            try:
                self.cancelled = cancel_requested(self.redis, self.job_id)
            except RedisError as error:
                log.debug("cancel of %s not looked for: %s", self.job_id, error)
            now = self.current()
            if now != last:
                self.write(now)
                last = now
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> ProgressReport:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 1)
        if kind is None:  # a job cut short teaches nothing about the pace
            elapsed = self.clock() - self.started
            synth = None
            if self.vocoder_started is not None and elapsed > 0:
                synth = (self.vocoder_started - self.started) / elapsed
            self.pace.learn(self.chars, elapsed, synth)

    def clear(self) -> None:
        """The job is over: its progress goes (the bot stops showing it)."""
        try:
            self.redis.delete(self.key)
        except RedisError as error:
            log.debug("progress of %s not cleared: %s", self.key, error)
