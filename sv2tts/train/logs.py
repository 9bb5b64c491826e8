"""What a training run reports: TensorBoard scalars, the same in a plain CSV, a progress bar.

`RunLog` writes into RUN_DIR/logs/: TensorBoard event files (`tensorboard --logdir
RUN_DIR/logs`) and `scalars.csv` (one row per logged step; its columns are fixed by the
first row, and a resumed run appends below the rows it already has). The progress bar is
tqdm's: steps/s and the time left to the end of the run.
"""

from __future__ import annotations

import csv
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CSV_NAME = "scalars.csv"


class RunLog:
    """Scalars of a run, to TensorBoard and CSV (only the process of rank 0 makes one)."""

    def __init__(self, folder: Path, tensorboard: bool = True) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.folder / CSV_NAME
        self.columns: list[str] | None = None
        if self.csv_path.is_file():
            with self.csv_path.open(newline="", encoding="utf-8") as file:
                header = next(csv.reader(file), None)
            self.columns = header or None
        self.writer: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(self.folder))

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        """Log `values` at `step` (non-finite values are written as they are)."""
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(name, value, step)
        if self.columns is None:
            self.columns = ["step", "time", *values]
            with self.csv_path.open("w", newline="", encoding="utf-8") as file:
                csv.writer(file).writerow(self.columns)
        row = {"step": step, "time": f"{time.time():.3f}", **values}
        with self.csv_path.open("a", newline="", encoding="utf-8") as file:
            csv.writer(file).writerow([_cell(row.get(name)) for name in self.columns])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.6g}"
    return str(value)


def read_csv(path: Path) -> list[dict[str, float]]:
    """The rows of a `scalars.csv` as floats (empty cells dropped)."""
    with Path(path).open(newline="", encoding="utf-8") as file:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(file)]


def progress_bar(start: int, total: int | None, enabled: bool) -> Any:
    """A tqdm bar over steps from `start` to `total` (steps/s and the time left)."""
    from tqdm import tqdm

    return tqdm(
        initial=start,
        total=total,
        unit="step",
        dynamic_ncols=True,
        disable=not enabled,
        smoothing=0.1,
    )
