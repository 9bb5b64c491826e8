"""Weights: resolving, verifying and downloading, against an HTTP server on loopback."""

from __future__ import annotations

import hashlib
import http.server
import logging
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sv2tts.weights import manifest as weights
from sv2tts.weights.download import LOCK_NAME, download_weights, exclusive_lock, part_path
from sv2tts.weights.manifest import (
    HASH_CACHE_NAME,
    Manifest,
    WeightsError,
    WeightSpec,
    read_manifest,
    resolve_all,
    resolve_weights,
)

SIZES = {"encoder": 150_000, "synthesizer": 400_000, "vocoder": 250_000}


@dataclass
class FakeHub:
    """What the loopback server serves and what it saw."""

    files: dict[str, bytes]
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)
    bytes_sent: int = 0
    corrupt: set[str] = field(default_factory=set)  # served with flipped bytes
    truncate_at: dict[str, int] = field(default_factory=dict)  # connection drops there once
    delay: float = 0.0  # seconds per 64 KB, to make downloads overlap
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(hub: FakeHub) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            name = self.path.rsplit("/", 1)[-1]
            range_header = self.headers.get("Range")
            with hub.lock:
                hub.requests.append((name, range_header))
            data = hub.files.get(name)
            if data is None:
                self.send_error(404)
                return
            if name in hub.corrupt:
                data = bytes(b ^ 0xFF for b in data)
            start, status = 0, 200
            if range_header:
                match = re.fullmatch(r"bytes=(\d+)-", range_header)
                assert match, range_header
                start, status = int(match.group(1)), 206
                if start >= len(data):
                    self.send_error(416)
                    return
            body = data[start:]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.end_headers()
            stop = hub.truncate_at.pop(name, None)
            if stop is not None:
                body = body[: stop - start]
            for i in range(0, len(body), 65536):
                if hub.delay:
                    time.sleep(hub.delay)
                self.wfile.write(body[i : i + 65536])
                with hub.lock:
                    hub.bytes_sent += len(body[i : i + 65536])
            if stop is not None:
                self.close_connection = True

    return Handler


@pytest.fixture
def hub() -> Iterator[tuple[FakeHub, str]]:
    rng = random.Random(1234)
    files = {f"{name}.pt": rng.randbytes(size) for name, size in SIZES.items()}
    state = FakeHub(files=files)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/CorentinJ/SV2TTS/resolve/main"
    finally:
        server.shutdown()
        server.server_close()


def manifest_for(hub: FakeHub, base_url: str) -> Manifest:
    return Manifest(
        base_url=base_url,
        files={
            name: WeightSpec(
                file=f"{name}.pt",
                size=len(hub.files[f"{name}.pt"]),
                sha256=hashlib.sha256(hub.files[f"{name}.pt"]).hexdigest(),
            )
            for name in SIZES
        },
    )


def test_download_fetches_every_file_and_they_verify(
    hub: tuple[FakeHub, str], tmp_path: Path
) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    fetched = download_weights(tmp_path, manifest, progress=False)
    assert sorted(p.name for p in fetched) == ["encoder.pt", "synthesizer.pt", "vocoder.pt"]
    for name, data in state.files.items():
        assert (tmp_path / name).read_bytes() == data
        assert not part_path(tmp_path / name).exists()
    resolved = resolve_all(tmp_path, manifest)
    assert resolved["vocoder"].sha256 == manifest.spec("vocoder").sha256
    assert all(r.official for r in resolved.values())
    # A second run finds everything in place and asks the server nothing.
    before = len(state.requests)
    assert download_weights(tmp_path, manifest, progress=False) == []
    assert len(state.requests) == before


def test_download_resumes_a_partial_file_with_a_range_request(
    hub: tuple[FakeHub, str], tmp_path: Path
) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    data = state.files["synthesizer.pt"]
    part_path(tmp_path / "synthesizer.pt").write_bytes(data[:123_456])
    download_weights(tmp_path, manifest, components=["synthesizer"], progress=False)
    assert state.requests == [("synthesizer.pt", "bytes=123456-")]
    assert state.bytes_sent == len(data) - 123_456
    assert (tmp_path / "synthesizer.pt").read_bytes() == data
    assert (
        resolve_weights(tmp_path, "synthesizer", manifest).sha256
        == hashlib.sha256(data).hexdigest()
    )


def test_interrupted_download_keeps_the_part_and_the_next_run_finishes_it(
    hub: tuple[FakeHub, str], tmp_path: Path
) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    state.truncate_at["vocoder.pt"] = 100_000
    with pytest.raises(WeightsError, match=r"vocoder\.pt.*again to resume"):
        download_weights(tmp_path, manifest, components=["vocoder"], progress=False)
    assert not (tmp_path / "vocoder.pt").exists()
    kept = part_path(tmp_path / "vocoder.pt").stat().st_size
    assert 0 < kept <= 100_000
    download_weights(tmp_path, manifest, components=["vocoder"], progress=False)
    assert state.requests[-1] == ("vocoder.pt", f"bytes={kept}-")
    assert (tmp_path / "vocoder.pt").read_bytes() == state.files["vocoder.pt"]


def test_corrupt_download_is_refused_and_leaves_no_file(
    hub: tuple[FakeHub, str], tmp_path: Path
) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    state.corrupt.add("encoder.pt")
    with pytest.raises(WeightsError) as error:
        download_weights(tmp_path, manifest, components=["encoder"], progress=False)
    assert "encoder.pt" in str(error.value) and "corrupt" in str(error.value)
    assert not (tmp_path / "encoder.pt").exists()
    assert not part_path(tmp_path / "encoder.pt").exists()


def test_http_error_names_the_file_and_the_url(hub: tuple[FakeHub, str], tmp_path: Path) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    del state.files["vocoder.pt"]
    with pytest.raises(WeightsError, match=r"vocoder\.pt from http://127\.0\.0\.1:\d+/.*vocoder"):
        download_weights(tmp_path, manifest, components=["vocoder"], progress=False)


def test_base_url_can_be_overridden_by_the_environment(
    hub: tuple[FakeHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = hub
    manifest = manifest_for(state, "http://127.0.0.1:9/nowhere")
    monkeypatch.setenv(weights.BASE_URL_ENV, url)
    download_weights(tmp_path, manifest, components=["encoder"], progress=False)
    assert (tmp_path / "encoder.pt").read_bytes() == state.files["encoder.pt"]


def test_wrong_existing_file_is_fetched_again(hub: tuple[FakeHub, str], tmp_path: Path) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    (tmp_path / "encoder.pt").write_bytes(b"\0" * SIZES["encoder"])
    assert download_weights(tmp_path, manifest, components=["encoder"], progress=False)
    assert (tmp_path / "encoder.pt").read_bytes() == state.files["encoder.pt"]


def test_two_concurrent_downloads_fetch_each_file_once(
    hub: tuple[FakeHub, str], tmp_path: Path
) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    state.delay = 0.01  # long enough that the second caller arrives during the first download
    results: list[list[Path]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(download_weights(tmp_path, manifest, progress=False))
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(len(r) for r in results) == [0, 3]
    assert sorted(name for name, _ in state.requests) == sorted(state.files)
    for name, data in state.files.items():
        assert (tmp_path / name).read_bytes() == data


def test_download_waits_for_a_lock_held_elsewhere(hub: tuple[FakeHub, str], tmp_path: Path) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    done = threading.Event()

    def run() -> None:
        download_weights(tmp_path, manifest, components=["encoder"], progress=False)
        done.set()

    with exclusive_lock(tmp_path / LOCK_NAME):
        thread = threading.Thread(target=run)
        thread.start()
        assert not done.wait(0.5)
        assert state.requests == []
    thread.join(30)
    assert done.is_set()
    assert state.requests == [("encoder.pt", None)]


def test_missing_file_error_names_the_file_and_the_command(tmp_path: Path) -> None:
    with pytest.raises(WeightsError) as error:
        resolve_weights(tmp_path, "synthesizer", read_manifest())
    message = str(error.value)
    assert "synthesizer.pt" in message
    assert "make weights" in message and "python -m sv2tts download" in message
    assert error.value.code == "weights_missing"


def test_truncated_file_is_refused_before_loading(tmp_path: Path) -> None:
    (tmp_path / "vocoder.pt").write_bytes(b"PK\x03\x04" + b"\0" * 1000)
    with pytest.raises(WeightsError, match=r"vocoder\.pt.*1,004 bytes instead of 53,845,290"):
        resolve_weights(tmp_path, "vocoder", read_manifest())


def test_same_size_but_different_bytes_is_refused(hub: tuple[FakeHub, str], tmp_path: Path) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    download_weights(tmp_path, manifest, components=["vocoder"], progress=False)
    resolve_weights(tmp_path, "vocoder", manifest)
    target = tmp_path / "vocoder.pt"
    target.write_bytes(bytes(SIZES["vocoder"]))
    with pytest.raises(WeightsError, match=r"vocoder\.pt.*sha256"):
        resolve_weights(tmp_path, "vocoder", manifest)


def test_verified_hash_is_cached_by_size_and_mtime(
    hub: tuple[FakeHub, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    for name, data in state.files.items():
        (tmp_path / name).write_bytes(data)
    calls: list[Path] = []
    real = weights.sha256_of_file
    monkeypatch.setattr(weights, "sha256_of_file", lambda p: calls.append(p) or real(p))
    resolve_all(tmp_path, manifest)
    assert len(calls) == 3 and (tmp_path / HASH_CACHE_NAME).is_file()
    resolve_all(tmp_path, manifest)
    assert len(calls) == 3  # nothing re-hashed
    target = tmp_path / "synthesizer.pt"
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))
    resolve_all(tmp_path, manifest)
    assert calls[3:] == [target]


def test_hash_cache_never_overrides_the_manifest(hub: tuple[FakeHub, str], tmp_path: Path) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    (tmp_path / "encoder.pt").write_bytes(state.files["encoder.pt"])
    resolve_weights(tmp_path, "encoder", manifest)
    other = Manifest(
        base_url=url,
        files={"encoder": WeightSpec("encoder.pt", SIZES["encoder"], "0" * 64)},
    )
    with pytest.raises(WeightsError, match="sha256"):
        resolve_weights(tmp_path, "encoder", other)


def test_encoder_falls_back_to_the_one_resemblyzer_ships(tmp_path: Path) -> None:
    bundled = weights.bundled_encoder_path()
    if bundled is None:
        pytest.skip("resemblyzer is not installed (pip install --no-deps resemblyzer==0.1.4)")
    resolved = resolve_weights(tmp_path, "encoder", read_manifest())
    assert resolved.path == bundled
    assert resolved.official
    assert resolved.sha256 == read_manifest().spec("encoder").sha256


def test_checkpoint_with_a_sidecar_is_a_custom_model_not_checked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "synthesizer.pt").write_bytes(b"not the official file")
    (tmp_path / "synthesizer.json").write_text("{}")
    with caplog.at_level(logging.INFO, logger="sv2tts.weights.manifest"):
        resolved = resolve_weights(tmp_path, "synthesizer", read_manifest())
    assert not resolved.official
    assert resolved.sidecar == tmp_path / "synthesizer.json"
    assert resolved.sha256 == hashlib.sha256(b"not the official file").hexdigest()
    assert "custom model" in caplog.text


def test_shipped_manifest_describes_the_three_official_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(weights.BASE_URL_ENV, raising=False)
    manifest = read_manifest()
    assert {name: spec.size for name, spec in manifest.files.items()} == {
        "encoder": 17_090_379,
        "synthesizer": 370_554_559,
        "vocoder": 53_845_290,
    }
    assert manifest.base_url == "https://huggingface.co/CorentinJ/SV2TTS/resolve/main"
    assert manifest.url("vocoder", None).endswith("/resolve/main/vocoder.pt")


def test_download_without_a_progress_bar_logs_progress_lines(
    hub: tuple[FakeHub, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state, url = hub
    manifest = manifest_for(state, url)
    part_path(tmp_path / "synthesizer.pt").write_bytes(state.files["synthesizer.pt"][:200_000])
    with caplog.at_level(logging.INFO, logger="sv2tts.weights.download"):
        download_weights(tmp_path, manifest, components=["synthesizer"], progress=False)
    percents = [int(m) for m in re.findall(r"synthesizer\.pt: (\d+)%", caplog.text)]
    # Resumed at half: no line for what was already there, then rising to 100 %.
    assert percents and percents[-1] == 100 and len(percents) >= 2
    assert percents == sorted(set(percents)) and percents[0] > 50
