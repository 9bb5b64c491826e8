"""Model weights: where they are, whether they are the right bytes, and how to fetch them.

Three files live in one weights directory (`pretrained/` by default): `encoder.pt`,
`synthesizer.pt`, `vocoder.pt`. The official ones are described by a manifest (size and
sha256 of each, and where to download them) and are checked against it *before* torch ever
unpickles them: a truncated or foreign file is refused with one line naming the file and the
command that fixes it.

A checkpoint with a sidecar config beside it (`synthesizer.json` next to `synthesizer.pt`) is
a custom model: it is loaded with that config and not checked against the manifest, which
only describes the official files.

Hashing 370 MB takes a second or more on a slow disk at every worker start, so the sha256 of
each file is remembered in a small stamp file (`.sha256-cache.json`) in the weights
directory, keyed by the file's size and modification time: if either changes, the file is
hashed again. What is cached is the file's own hash, never a verdict, so a changed manifest
is always applied. The cache trusts that nobody rewrites a file with the same size while
restoring its mtime; that is deliberate tampering, which a hash on the same disk would not
stop either.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import importlib.util
import json
import logging
import math
import os
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

COMPONENTS = ("encoder", "synthesizer", "vocoder")
DEFAULT_WEIGHTS_DIR = Path("pretrained")
DEFAULT_BASE_URL = "https://huggingface.co/CorentinJ/SV2TTS/resolve/main"
# Overrides the manifest's download location (a mirror, or a test server on loopback).
BASE_URL_ENV = "SV2TTS_WEIGHTS_URL"
FIX_HINT = "run `make weights` (or `python -m sv2tts download`)"
HASH_CACHE_NAME = ".sha256-cache.json"
LOCK_NAME = ".download.lock"
SIDECAR_SUFFIX = ".json"
_CHUNK = 1 << 20


class WeightsError(RuntimeError):
    """Weights missing, corrupt or undownloadable; the message says which file and the fix."""

    code = "weights_missing"  # the worker's error code (worker/api.py ERROR_CODES)


@dataclass(frozen=True, slots=True)
class WeightSpec:
    """One official file as the manifest describes it."""

    file: str
    size: int
    sha256: str | None  # None: only the size can be checked


@dataclass(frozen=True, slots=True)
class Manifest:
    base_url: str
    files: Mapping[str, WeightSpec]  # component name -> spec

    def spec(self, component: str) -> WeightSpec:
        try:
            return self.files[component]
        except KeyError:
            raise WeightsError(f"the weights manifest has no entry for '{component}'") from None

    def url(self, component: str, base_url: str | None = None) -> str:
        base = base_url or os.environ.get(BASE_URL_ENV) or self.base_url
        return f"{base.rstrip('/')}/{self.spec(component).file}"


@dataclass(frozen=True, slots=True)
class ResolvedWeights:
    """A checkpoint that exists and passed its checks, ready to be loaded."""

    component: str
    path: Path
    sha256: str
    sidecar: Path | None  # config of a custom model; None for the official file

    @property
    def official(self) -> bool:
        return self.sidecar is None

    @property
    def short_id(self) -> str:
        """A stable identity of the weights (e.g. to tag embeddings with their encoder)."""
        return self.sha256[:16]


# --- the manifest ---------------------------------------------------------------------------


def default_manifest_path() -> Path:
    """`pretrained/manifest.json` of this source tree (it ships beside the package)."""
    return Path(__file__).resolve().parent.parent / "pretrained" / "manifest.json"


def read_manifest(path: Path | str | None = None) -> Manifest:
    path = Path(path) if path is not None else default_manifest_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise WeightsError(f"cannot read the weights manifest {path}: {error}") from error
    return manifest_from_dict(data)


def manifest_from_dict(data: Mapping[str, Any]) -> Manifest:
    files = {
        name: WeightSpec(file=entry["file"], size=int(entry["size"]), sha256=entry.get("sha256"))
        for name, entry in data["files"].items()
    }
    return Manifest(base_url=str(data.get("base_url", DEFAULT_BASE_URL)), files=files)


# --- hashing, with the cache ----------------------------------------------------------------


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_hash_cache(directory: Path) -> dict[str, Any]:
    try:
        data = json.loads((directory / HASH_CACHE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_hash_cache(directory: Path, cache: Mapping[str, Any]) -> None:
    """Best effort and atomic: a read-only weights directory just means hashing at each start."""
    tmp = directory / f"{HASH_CACHE_NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, directory / HASH_CACHE_NAME)
    except OSError as error:
        log.debug("could not write the sha256 cache in %s: %s", directory, error)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def cached_sha256(path: Path) -> str:
    """The file's sha256, from the directory's cache when size and mtime are unchanged."""
    stat = path.stat()
    key = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    cache = _read_hash_cache(path.parent)
    entry = cache.get(path.name)
    if isinstance(entry, dict) and all(entry.get(k) == v for k, v in key.items()):
        sha = entry.get("sha256")
        if isinstance(sha, str) and len(sha) == 64:
            return sha
    log.info("computing the sha256 of %s (%d MB)", path, stat.st_size // 1_000_000)
    sha = sha256_of_file(path)
    cache[path.name] = {**key, "sha256": sha}
    _write_hash_cache(path.parent, cache)
    return sha


# --- checking -------------------------------------------------------------------------------


def sidecar_path(checkpoint: Path) -> Path:
    return checkpoint.with_suffix(SIDECAR_SUFFIX)


def mismatch(path: Path, spec: WeightSpec, sha256: str | None = None) -> str | None:
    """Why `path` is not the file `spec` describes, or None when it is."""
    size = path.stat().st_size
    if size != spec.size:
        return f"{size:,} bytes instead of {spec.size:,}"
    if spec.sha256 is None:
        return None
    got = sha256 if sha256 is not None else cached_sha256(path)
    if got != spec.sha256:
        return f"sha256 {got[:12]}… instead of {spec.sha256[:12]}…"
    return None


def bundled_encoder_path() -> Path | None:
    """`pretrained.pt` of the `resemblyzer` package: the official encoder, installed by pip.

    Found without importing the package: its `__init__` pulls in librosa, scipy and
    webrtcvad, none of which are needed to read one file.
    """
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "pretrained.pt"
        if candidate.is_file():
            return candidate
    return None


def resolve_weights(
    weights_dir: Path | str, component: str, manifest: Manifest | None = None
) -> ResolvedWeights:
    """The checkpoint of `component`, checked; WeightsError with the fix when it is unusable."""
    weights_dir = Path(weights_dir)
    manifest = manifest or read_manifest()
    spec = manifest.spec(component)
    path = weights_dir / spec.file
    sidecar = sidecar_path(path)
    if path.is_file() and sidecar.is_file():
        log.info("%s: custom model (config %s), not checked against the manifest", path, sidecar)
        return ResolvedWeights(component, path, cached_sha256(path), sidecar)
    bundled = False
    if not path.is_file():
        fallback = bundled_encoder_path() if component == "encoder" else None
        if fallback is None:
            raise WeightsError(f"{spec.file} is missing from {weights_dir}/: {FIX_HINT}")
        log.info("%s absent: using the encoder shipped by resemblyzer (%s)", path, fallback)
        path, bundled = fallback, True
    # The bundled file sits in site-packages, perhaps read-only: hash it (17 MB) directly.
    sha = sha256_of_file(path) if bundled else None
    problem = mismatch(path, spec, sha)
    if problem is not None:
        raise WeightsError(
            f"{path} is not the official {spec.file} ({problem}): delete it and {FIX_HINT}"
        )
    if spec.sha256 is None:
        log.warning("%s: the manifest has no sha256, only the size was checked", path)
    return ResolvedWeights(component, path, sha or cached_sha256(path), None)


def resolve_all(
    weights_dir: Path | str,
    manifest: Manifest | None = None,
    components: Iterable[str] = COMPONENTS,
) -> dict[str, ResolvedWeights]:
    manifest = manifest or read_manifest()
    return {c: resolve_weights(weights_dir, c, manifest) for c in components}


# --- downloading ----------------------------------------------------------------------------


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
        _remember_hash(target, sha)
    log.info("%s: downloaded and verified", target)


def _remember_hash(path: Path, sha: str) -> None:
    stat = path.stat()
    cache = _read_hash_cache(path.parent)
    cache[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha}
    _write_hash_cache(path.parent, cache)


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


# --- stand-ins of the right shape -----------------------------------------------------------


def read_reference_shapes(path: Path | str, component: str) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the official `component` checkpoint, from a `state_dicts.json`."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {key: tuple(shape) for key, shape in data[component].items()}


def random_model_state(
    shapes: Mapping[str, Sequence[int]], seed: int = 0, *, reduction_factor: int = 2
) -> dict[str, torch.Tensor]:
    """A state dict with every key and shape of a real one and random weights.

    For timing full-size networks when the real weights are absent: weights are drawn
    uniformly within ±1/sqrt(fan_in) (PyTorch's default initialisation, so activations stay
    in range), batch-norm statistics are the identity, and the synthesizer's buffers get
    their published values (step 0, stop threshold -3.4, decoder.r).
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for key, shape in shapes.items():
        shape = tuple(shape)
        leaf = key.rsplit(".", 1)[-1]
        if leaf in ("num_batches_tracked", "step"):
            state[key] = torch.zeros(shape, dtype=torch.int64)
        elif key == "decoder.r":
            state[key] = torch.full(shape, reduction_factor, dtype=torch.int32)
        elif key == "stop_threshold":
            state[key] = torch.full(shape, -3.4)
        elif leaf == "running_var":
            state[key] = torch.ones(shape)
        elif leaf == "running_mean":
            state[key] = torch.zeros(shape)
        else:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else max(1, shape[0] if shape else 1)
            bound = 1.0 / math.sqrt(fan_in)
            state[key] = (torch.rand(shape, generator=generator) * 2 - 1) * bound
    return state
