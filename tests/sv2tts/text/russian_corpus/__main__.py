"""Score corpus files: ``python -m tests.sv2tts.text.russian_corpus FILE...``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sv2tts.text.russian import expand_russian
from tests.sv2tts.text.russian_corpus import CORPUS, load, misses


def main(paths: list[str]) -> None:
    for path in [Path(p) for p in paths] or [CORPUS]:
        pairs = load(path)
        started = time.perf_counter()
        wrong = misses(pairs)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        for text, _ in pairs:  # again, warm: a new string, the analyser's parses cached
            expand_russian(text + " ")
        warm = time.perf_counter() - started
        for text, expected, got in wrong:
            sys.stdout.write(f"- {text}\n  want: {expected}\n  got:  {got}\n")
        exact = len(pairs) - len(wrong)
        sys.stdout.write(
            f"{path.name}: {exact}/{len(pairs)} exact ({100 * exact / len(pairs):.1f} %), "
            f"{1000 * cold / len(pairs):.2f} ms a sentence cold, "
            f"{1000 * warm / len(pairs):.2f} ms warm\n"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
