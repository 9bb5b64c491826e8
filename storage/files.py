"""The content-addressed store of reference recordings: DATA_DIR/recordings/<h[:2]>/<h>.<ext>.

A file's name is the sha256 of its bytes, so the same recording sent twice is kept once and
a name can never be chosen by a user. Writes are atomic (temporary file, fsync, rename): a
crash leaves either the whole file or none. Whether a file is still needed is the database's
business (storage/recordings.py); this module only moves bytes. Its methods block, so the
async code calls them through `asyncio.to_thread`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_EXT = re.compile(r"^[a-z0-9]{1,8}$")
_TMP_PREFIX = ".tmp-"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_ext(ext: str) -> str:
    if not _EXT.fullmatch(ext):
        raise ValueError(f"bad file extension {ext!r}: 1-8 lowercase letters or digits")
    return ext


@dataclass(frozen=True, slots=True)
class FileKey:
    sha256: str
    ext: str


@dataclass(frozen=True, slots=True)
class FileStore:
    root: Path

    def path(self, key: FileKey) -> Path:
        if not _SHA256.fullmatch(key.sha256):
            raise ValueError(f"not a sha256 hex digest: {key.sha256!r}")
        return self.root / key.sha256[:2] / f"{key.sha256}.{check_ext(key.ext)}"

    def write(self, data: bytes, ext: str) -> tuple[FileKey, bool]:
        """Store `data`; return its key and whether this call created the file."""
        key = FileKey(sha256_hex(data), check_ext(ext))
        target = self.path(key)
        if target.is_file() and target.stat().st_size == len(data):
            return key, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return key, True

    def read(self, key: FileKey) -> bytes:
        return self.path(key).read_bytes()

    def remove(self, key: FileKey) -> bool:
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        # The empty shard directory stays: at most 256 of them, and removing one could race
        # a write that has just created it.
        return True

    def keys(self, min_age_seconds: float = 0.0) -> Iterator[FileKey]:
        """The key of every stored file last written over `min_age_seconds` ago; leftovers
        of interrupted writes as old as that are deleted on the way.

        For garbage collection, which may run while another process writes here (a bank
        import beside a live bot): a younger file may be a write whose row is not committed
        yet, and a younger temporary file a write still going on, so neither is offered.
        Symbolic links are never followed nor offered, a shard's or a file's: everything
        this store writes is a plain file in a plain folder, and a link leads to files that
        are not its own to delete."""
        if not self.root.is_dir():
            return
        newest = time.time() - min_age_seconds
        for shard in sorted(os.scandir(self.root), key=lambda entry: entry.name):
            if not shard.is_dir(follow_symlinks=False):
                continue
            for entry in sorted(os.scandir(shard.path), key=lambda entry: entry.name):
                if not entry.is_file(follow_symlinks=False):
                    continue
                if entry.stat(follow_symlinks=False).st_mtime > newest:
                    continue
                if entry.name.startswith(_TMP_PREFIX):
                    log.info("removing an interrupted write: %s", entry.path)
                    Path(entry.path).unlink(missing_ok=True)
                    continue
                stem, _, ext = entry.name.partition(".")
                if _SHA256.fullmatch(stem) and _EXT.fullmatch(ext):
                    yield FileKey(stem, ext)
