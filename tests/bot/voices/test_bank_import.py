"""`python -m bot bank-import DIR`: curated bank voices made offline with the real encoder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bot.conftest import ROOT
from tests.fakes.weights import make_tiny_weights_dir

pytestmark = pytest.mark.slow


def test_bank_import_adds_each_recording_and_skips_what_is_not_speech(
    audio_dir: Path, tmp_path: Path
) -> None:
    import asyncio

    from storage import Storage

    folder = tmp_path / "bank"
    folder.mkdir()
    speech = sorted(audio_dir.glob("*.mp3"))[:2]
    for path in speech:
        shutil.copyfile(path, folder / path.name)
    (folder / "broken.ogg").write_bytes(b"OggS" + b"\x01" * 500)
    (folder / "notes.txt").write_text("not a recording")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BOT_TOKEN": "1:import-test",
        "DATA_DIR": str(tmp_path / "data"),
        "SV2TTS_WEIGHTS_DIR": str(make_tiny_weights_dir(tmp_path / "weights")),
        "DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "bank-import", str(folder)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    done = run()
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(": ", 1) for line in done.stdout.strip().splitlines())
    assert lines[speech[0].stem] == "added" and lines[speech[1].stem] == "added"
    assert lines["broken"].startswith("skipped")
    assert "notes" not in lines

    again = run()
    assert again.returncode == 0
    assert f"{speech[0].stem}: replaced" in again.stdout

    async def bank() -> list[tuple[str, bool, int | None, str]]:
        async with await Storage.open(tmp_path / "data", collect_garbage=False) as store:
            page = await store.voices.bank_page(page_size=50)
            return [(v.name, v.curated, v.owner_id, v.encoder_id) for v in page.voices]

    voices = asyncio.run(bank())
    assert sorted(name for name, *_ in voices) == sorted(p.stem for p in speech)
    assert all(curated and owner is None and encoder for _, curated, owner, encoder in voices)
