"""The worker's settings name the engine's devices (what the bot and storage may import of the
engine without loading torch is checked in tests/test_architecture.py)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_worker_validates_its_device_against_the_engine_list() -> None:
    from sv2tts.choices import DEVICES
    from worker.settings import Device

    assert tuple(d.value for d in Device) == DEVICES
