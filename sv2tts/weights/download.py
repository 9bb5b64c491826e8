"""Fetching the official weights: resumable, verified, atomic, one process at a time.

`download_weights(weights_dir)` streams each missing or wrong official file into
`<name>.part` (resumed with an HTTP Range request after an interruption), checks its size and
sha256 against the manifest (`sv2tts.weights`), and renames it into place, so a reader never
sees half a file. A lock in the weights directory makes a second process that starts at the
same time wait, then find the files present instead of fetching them twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sv2tts.weights.manifest import (
    COMPONENTS,
    DEFAULT_WEIGHTS_DIR,
    Manifest,
    WeightsError,
    WeightSpec,
    mismatch,
    read_manifest,
    remember_sha256,
    sha256_of_file,
    sidecar_path,
)

log = logging.getLogger(__name__)

LOCK_NAME = ".download.lock"
_CHUNK = 1 << 20  # bytes per read from the network


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """An flock on `path`: a second process (or thread) that asks for it waits here."""
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is downloading weights into %s; waiting", path.parent)
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def _open_range(url: str, offset: int, timeout: float) -> Any:
    headers = {"User-Agent": "sv2tts-weights/1"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def _copy_stream(response: Any, out: BinaryIO, bar: Any, done: int, spec: WeightSpec) -> None:
    """Copy to the end; without a progress bar (logs, containers), log every tenth."""
    logged_tenth = 10 * done // max(1, spec.size)
    # read1: whatever has arrived (up to a chunk), so progress moves as the bytes do.
    read = getattr(response, "read1", response.read)
    while chunk := read(_CHUNK):
        out.write(chunk)
        bar.update(len(chunk))
        done += len(chunk)
        tenth = 10 * done // max(1, spec.size)
        if bar.disable and tenth > logged_tenth:
            logged_tenth = tenth
            log.info("%s: %d%% (%d MB)", spec.file, 10 * tenth, done // 1_000_000)
    out.flush()
    os.fsync(out.fileno())


def _fetch_part(url: str, part: Path, spec: WeightSpec, progress: bool, timeout: float) -> None:
    """Bring `part` to the full size, resuming from what is already there."""
    from tqdm import tqdm  # the engine extra; only needed when something is fetched

    offset = part.stat().st_size if part.is_file() else 0
    if offset > spec.size:
        part.unlink()
        offset = 0
    if offset == spec.size:
        return
    try:
        response = _open_range(url, offset, timeout)
    except urllib.error.HTTPError as error:
        if error.code != 416 or not offset:
            raise
        part.unlink()  # the server refuses our offset: the partial file is not its file
        offset = 0
        response = _open_range(url, 0, timeout)
    with response:
        if offset and response.status != 206:
            log.info("%s: the server ignored the range request; starting over", spec.file)
            offset = 0
        elif offset:
            log.info("%s: resuming at %d of %d bytes", spec.file, offset, spec.size)
        with (
            part.open("ab" if offset else "wb") as out,
            tqdm(
                total=spec.size,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=spec.file,
                file=sys.stderr,
                disable=not progress,
            ) as bar,
        ):
            _copy_stream(response, out, bar, offset, spec)


def _download_one(url: str, target: Path, spec: WeightSpec, progress: bool, timeout: float) -> None:
    part = part_path(target)
    try:
        _fetch_part(url, part, spec, progress, timeout)
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise WeightsError(
            f"could not download {spec.file} from {url} ({reason}); "
            "run `python -m sv2tts download` again to resume"
        ) from error
    size = part.stat().st_size
    if size < spec.size:
        raise WeightsError(
            f"download of {spec.file} stopped at {size:,} of {spec.size:,} bytes; "
            "run `python -m sv2tts download` again to resume"
        )
    sha = sha256_of_file(part) if spec.sha256 is not None else None
    problem = mismatch(part, spec, sha)
    if problem is not None:
        part.unlink()
        raise WeightsError(
            f"the downloaded {spec.file} from {url} is corrupt ({problem}); it was removed"
        )
    os.replace(part, target)
    if sha is not None:
        remember_sha256(target, sha)
    log.info("%s: downloaded and verified", target)


def download_weights(
    weights_dir: Path | str = DEFAULT_WEIGHTS_DIR,
    manifest: Manifest | None = None,
    *,
    base_url: str | None = None,
    components: Iterable[str] = COMPONENTS,
    progress: bool = True,
    timeout: float = 60.0,
) -> list[Path]:
    """Fetch every official file that is missing or wrong; return the paths fetched.

    Files are streamed into `<name>.part` (resumed with an HTTP Range request after an
    interruption), checked for size and sha256, then renamed into place, so a reader never
    sees half a file. A lock in the weights directory makes a second process that starts at
    the same time wait, then find the files present instead of fetching them twice.
    """
    weights_dir = Path(weights_dir)
    manifest = manifest or read_manifest()
    weights_dir.mkdir(parents=True, exist_ok=True)
    fetched: list[Path] = []
    with exclusive_lock(weights_dir / LOCK_NAME):
        for component in components:
            spec = manifest.spec(component)
            target = weights_dir / spec.file
            if target.is_file():
                if sidecar_path(target).is_file():
                    log.info("%s: custom model, left as it is", target)
                    continue
                problem = mismatch(target, spec)
                if problem is None:
                    log.info("%s: present and verified", target)
                    continue
                log.warning("%s is not the official file (%s): fetching it again", target, problem)
            url = manifest.url(component, base_url)
            log.info("downloading %s from %s", spec.file, url)
            _download_one(url, target, spec, progress, timeout)
            fetched.append(target)
    return fetched
