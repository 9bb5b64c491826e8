"""The bot imports storage, and the bot must never load torch."""

from __future__ import annotations

import subprocess
import sys


def test_importing_storage_does_not_import_torch() -> None:
    code = "import sys, storage; sys.exit(1 if 'torch' in sys.modules else 0)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr or "storage pulled in torch"
