"""How long stress takes: ``python -m sv2tts.bench.stress [SENTENCE...]``.

Loads silero-stress as the engine does (sv2tts.text.stress), then stresses the sentences
(eight everyday ones by default) and prints the CPU, the seconds to load, the milliseconds a
sentence, and each sentence as marked ("+" before the stressed vowel).
"""

from __future__ import annotations

import sys
import time

from sv2tts.cpuinfo import cpu_info
from sv2tts.text.stress import SileroStresser, plus_marks


def benchmark(sentences: list[str]) -> None:
    """Print the seconds to load the model (with the first sentence) and per sentence after."""
    stresser = SileroStresser()
    start = time.perf_counter()
    stresser("Проверка.")
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    marked = [stresser(sentence) for sentence in sentences]
    each = (time.perf_counter() - start) / len(sentences)
    print(f"CPU: {cpu_info().describe()}")
    print(f"model loaded and first sentence: {loaded:.2f} s; then {1000 * each:.1f} ms a sentence")
    for sentence in marked:
        print(plus_marks(sentence or "(no stress)"))


if __name__ == "__main__":
    benchmark(
        sys.argv[1:]
        or [
            "Молоко на столе, еще хорошо.",
            "Мама мыла раму, а папа читал газету.",
            "Сегодня вечером мы пойдем в кино на новый фильм.",
            "Замок на двери старого замка заржавел.",
            "Пожалуйста, позвоните мне завтра после обеда.",
            "Все елки в лесу были покрыты снегом.",
            "Он сказал, что приедет через пять минут.",
            "Кто-то оставил зонтик в вагоне метро.",
        ]
    )
