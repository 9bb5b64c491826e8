"""Model weights: where they are and whether they are the right bytes.

Three files live in one weights directory (`pretrained/` by default): `encoder.pt`,
`synthesizer.pt`, `vocoder.pt`. The official ones are described by a manifest (size and
sha256 of each, and where to download them) and are checked against it *before* torch ever
unpickles them: a truncated or foreign file is refused with one line naming the file and the
command that fixes it.

A checkpoint with a sidecar config beside it (`synthesizer.json` next to `synthesizer.pt`) is
a custom model: it is loaded with that config and not checked against the manifest, which
only describes the official files.

A weights directory may hold only some of the three files (a training run's folder holds
just the network it trains): a file it lacks is taken from the default weights directory
(`$SV2TTS_WEIGHTS_DIR`, else `pretrained/`), and the encoder, failing that, from resemblyzer.

Hashing 370 MB takes a second or more on a slow disk at every worker start, so the sha256 of
each file is remembered in a small stamp file (`.sha256-cache.json`) in the weights
directory, keyed by the file's size and modification time: if either changes, the file is
hashed again. What is cached is the file's own hash, never a verdict, so a changed manifest
is always applied. The cache trusts that nobody rewrites a file with the same size while
restoring its mtime; that is deliberate tampering, which a hash on the same disk would not
stop either.

Fetching the official files is `sv2tts.weights.download`; random stand-ins of the right shapes, for
tests and benchmarks, are `sv2tts.standins`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

COMPONENTS = ("encoder", "synthesizer", "vocoder")
DEFAULT_WEIGHTS_DIR = Path("pretrained")
DEFAULT_BASE_URL = "https://huggingface.co/CorentinJ/SV2TTS/resolve/main"
# Overrides the manifest's download location (a mirror, or a test server on loopback).
BASE_URL_ENV = "SV2TTS_WEIGHTS_URL"
FIX_HINT = "run `make weights` (or `python -m sv2tts download`)"
HASH_CACHE_NAME = ".sha256-cache.json"
SIDECAR_SUFFIX = ".json"
_CHUNK = 1 << 20  # bytes read at a time when hashing


class WeightsError(RuntimeError):
    """Weights missing, corrupt or undownloadable; the message says which file and the fix."""

    code = "weights_missing"  # the worker's error code (worker/api/payloads.py ERROR_CODES)


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
    return Path(__file__).resolve().parents[2] / "pretrained" / "manifest.json"


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


def remember_sha256(path: Path, sha: str) -> None:
    """Record `path`'s sha256 (just computed elsewhere, e.g. while downloading) in the cache."""
    stat = path.stat()
    cache = _read_hash_cache(path.parent)
    cache[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha}
    _write_hash_cache(path.parent, cache)


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
    default_dir = Path(os.environ.get("SV2TTS_WEIGHTS_DIR") or DEFAULT_WEIGHTS_DIR)
    if (
        not path.is_file()
        and (default_dir / spec.file).is_file()
        and default_dir.resolve() != weights_dir.resolve()
    ):
        log.info("%s absent: taking %s from %s", path, spec.file, default_dir)
        return resolve_weights(default_dir, component, manifest)
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
