"""A whole dataset through `process`: worker processes, resuming, the index files, the summary.

    summary = preprocess("synthesizer", dataset_dir, out_dir, workers=4)

Per network, `OUT` holds (formats documented in `sv2tts.synthesizer.train`,
`sv2tts.vocoder.train` and `sv2tts.encoder.train`):

- synthesizer: `dataset.json`, `train.txt`
  (`audio-ID.npy|mel-ID.npy|embed-ID.npy|n_samples|n_frames|text|ids`), `audio/`, `mels/`,
  `embeds/`;
- vocoder: `dataset.json`, `train.txt` (`ID|n_samples|n_frames`), `audio/ID.npy`,
  `mels/ID.npy` (ground truth; with `gta` the synthesizer's GTA mel, the ground truth then in
  `mels_gt/ID.npy` and the embeddings in `embeds/ID.npy`);
- encoder: `<speaker>/frames-ID.npy` and `<speaker>/_sources.txt` (`frames-ID.npy,AUDIO`).

LibriSpeech with the word alignments beside it (`*.alignment.txt`, detected; `alignments=False`
or `--no-alignments` turns them off) is split at its silences for the synthesizer and the
vocoder, as the reference does (`alignments`): each piece is an item of its own,
`<utterance id>_<nn>`, with the words inside it as its text; an utterance without an alignment
line is used whole. The summary's `alignments` counts them (None when not used), and its
`utterances` counts the items.

and for all three `processed.jsonl` (one record per utterance judged: kept, or skipped and
why) and `summary.json`. A re-run reads `processed.jsonl` and does only what is not done:
kept utterances whose files are all there and utterances skipped for their length or text
are not looked at again; broken files are tried again. The index files and the summary are
rewritten from the whole record at the end of every run, so a run that was killed loses at
most the utterances in flight.

Utterances are processed in `workers` processes (spawned, each with one torch thread and, for
the synthesizer, its own speaker encoder); `workers=1` runs them in this process.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from sv2tts.text import TextFrontend
from sv2tts.train.preprocess.alignments import has_alignments, split_utterances
from sv2tts.train.preprocess.datasets import Utterance, read_dataset, safe_id
from sv2tts.train.preprocess.process import (
    SKIP_REASONS,
    Outcome,
    PreprocessConfig,
    process_encoder,
    process_synthesizer,
    process_vocoder,
)
from sv2tts.train.preprocess.symbols import named_frontend, with_stress

log = logging.getLogger(__name__)

Net = Literal["synthesizer", "vocoder", "encoder"]
NETS: tuple[Net, ...] = ("synthesizer", "vocoder", "encoder")
LEDGER = "processed.jsonl"
SUMMARY = "summary.json"
DATASET_JSON = "dataset.json"
TRAIN_TXT = "train.txt"
# Reasons that a second look would not change (the file and its text are the same).
_FINAL_REASONS = frozenset({"too_short", "too_long", "no_text"})


@dataclass(frozen=True)
class Job:
    """Everything a worker needs, picklable."""

    net: Net
    out_dir: Path
    frontend: TextFrontend
    language: str
    config: PreprocessConfig
    weights_dir: Path
    gta: bool = False  # vocoder: ids and embeddings too, for the GTA pass


@dataclass
class Summary:
    net: str
    dataset: str
    format: str
    utterances: int
    kept: int
    hours_kept: float
    speakers: int
    skipped: dict[str, int]
    processed_now: int
    already_done: int
    gta: str | None = None
    # LibriSpeech split at its silences: aligned, split, pieces, unaligned (see alignments).
    alignments: dict[str, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- workers --------------------------------------------------------------------------------

_worker_job: Job | None = None
_worker_frontend: TextFrontend | None = None
_worker_embed: Callable[[Any], Any] | None = None


def _init_worker(job: Job) -> None:
    """Per process: the job, one torch thread, for the synthesizer the speaker encoder, and
    for Russian text the stress model."""
    global _worker_job, _worker_embed, _worker_frontend
    _worker_job = job
    _worker_frontend = with_stress(job.frontend, job.language)
    if job.net == "synthesizer" or job.gta:
        import torch

        from sv2tts.loading import load_voice_encoder

        torch.set_num_threads(1)
        encoder = load_voice_encoder(job.weights_dir, device="cpu")
        sample_rate = job.config.signal.sample_rate

        def embed(wav: Any) -> Any:
            return encoder.embedding(wav, sample_rate)

        _worker_embed = embed


def _process(utterance: Utterance) -> Outcome:
    job, frontend = _worker_job, _worker_frontend
    assert job is not None and frontend is not None, "_init_worker runs first"
    try:
        if job.net == "synthesizer":
            assert _worker_embed is not None
            return process_synthesizer(utterance, job.out_dir, frontend, _worker_embed, job.config)
        if job.net == "vocoder":
            gta = (frontend, _worker_embed) if job.gta else None
            return process_vocoder(utterance, job.out_dir, job.config, gta)
        return process_encoder(utterance, job.out_dir, job.config)
    except Exception as error:  # one bad file must not end a run of thousands
        log.warning("%s: %s: %s, skipped", utterance.audio, type(error).__name__, error)
        return Outcome(utterance.id, utterance.speaker, kept=False, reason="broken")


def _outcomes(job: Job, todo: list[Utterance], workers: int) -> Iterator[Outcome]:
    if not todo:  # nothing to do: no encoder to load
        return
    if workers <= 1 or len(todo) <= 1:
        _init_worker(job)
        yield from map(_process, todo)
        return
    context = multiprocessing.get_context("spawn")  # no forked copies of torch's threads
    with context.Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
        yield from pool.imap_unordered(_process, todo, chunksize=4)


# --- the record of what is done -------------------------------------------------------------


def read_ledger(out_dir: Path) -> dict[str, Outcome]:
    """The last record of each utterance in `out_dir`'s ledger (damaged lines ignored)."""
    path = out_dir / LEDGER
    records: dict[str, Outcome] = {}
    if not path.is_file():
        return records
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            outcome = Outcome.from_json(json.loads(line))
        except (ValueError, TypeError):  # a line cut short by a killed run
            continue
        records[outcome.id] = outcome
    return records


def output_files(net: Net, out_dir: Path, outcome: Outcome, gta: bool = False) -> list[Path]:
    """The files a kept utterance has in the training set (for a GTA set: before the GTA
    pass, which `gta.write_gta` resumes by itself)."""
    if net == "synthesizer":
        return [
            out_dir / "audio" / f"audio-{outcome.id}.npy",
            out_dir / "mels" / f"mel-{outcome.id}.npy",
            out_dir / "embeds" / f"embed-{outcome.id}.npy",
        ]
    if net == "vocoder":
        mels = ["mels_gt", "embeds"] if gta else ["mels"]
        return [out_dir / folder / f"{outcome.id}.npy" for folder in ("audio", *mels)]
    return [out_dir / safe_id(outcome.speaker) / f"frames-{outcome.id}.npy"]


def is_done(net: Net, out_dir: Path, outcome: Outcome | None, gta: bool = False) -> bool:
    if outcome is None:
        return False
    if outcome.kept:
        return all(path.is_file() for path in output_files(net, out_dir, outcome, gta))
    return outcome.reason in _FINAL_REASONS


# --- index files ----------------------------------------------------------------------------


def _field(text: str) -> str:
    return " ".join(text.replace("|", " ").split())


def dataset_json(frontend: TextFrontend, language: str, config: PreprocessConfig) -> dict:
    return {
        "symbols": list(frontend.symbols.symbols),
        "cleaners": list(frontend.cleaners),
        "language": language,
        "signal": asdict(config.signal),
    }


def _check_or_write_dataset_json(out_dir: Path, description: dict[str, Any]) -> None:
    path = out_dir / DATASET_JSON
    if path.is_file():
        existing = json.loads(path.read_text(encoding="utf-8"))
        if existing != description:
            raise ValueError(
                f"{path} describes another symbol set or signal than this run's: "
                "write to a new folder (or delete it) rather than mix two in one set"
            )
        return
    path.write_text(json.dumps(description, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def write_index(net: Net, out_dir: Path, kept: Iterable[Outcome], utterances: dict) -> None:
    """train.txt (synthesizer, vocoder) or each speaker's _sources.txt (encoder)."""
    kept = sorted(kept, key=lambda o: o.id)
    if net == "synthesizer":
        lines = [
            f"audio-{o.id}.npy|mel-{o.id}.npy|embed-{o.id}.npy|{o.n_samples}|{o.n_frames}|"
            f"{_field(o.text)}|{','.join(map(str, o.ids))}"
            for o in kept
        ]
        _write_lines(out_dir / TRAIN_TXT, lines)
    elif net == "vocoder":
        # A GTA set lists only what the GTA pass has written.
        ready = [o for o in kept if (out_dir / "mels" / f"{o.id}.npy").is_file()]
        _write_lines(out_dir / TRAIN_TXT, [f"{o.id}|{o.n_samples}|{o.n_frames}" for o in ready])
    else:
        by_speaker: dict[str, list[str]] = {}
        for o in kept:
            source = utterances[o.id].audio if o.id in utterances else ""
            by_speaker.setdefault(safe_id(o.speaker), []).append(f"frames-{o.id}.npy,{source}")
        for speaker, lines in by_speaker.items():
            _write_lines(out_dir / speaker / "_sources.txt", lines)


def _write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    partial.replace(path)


# --- the run --------------------------------------------------------------------------------


def preprocess(
    net: Net,
    dataset: Path | str,
    out_dir: Path | str,
    *,
    fmt: str | None = None,
    symbols: str = "english",
    workers: int = 1,
    weights_dir: Path | str = "pretrained",
    config: PreprocessConfig | None = None,
    gta: Path | str | None = None,
    progress: bool | None = None,
    alignments: bool = True,
) -> Summary:
    """Preprocess `dataset` for `net` into `out_dir`; see the module docstring.

    `symbols`: a symbol set's name (see `named_frontend`) or a sidecar json; `weights_dir`:
    where the speaker encoder is found (resemblyzer's copy when absent); `gta`: a trained
    synthesizer checkpoint (vocoder only) whose teacher-forced mels are written beside the
    ground truth; `progress`: a progress bar (None: only on a terminal); `alignments`: split
    LibriSpeech at its silences where alignment files are there (synthesizer, vocoder).
    """
    if net not in NETS:
        raise ValueError(f"net must be one of {', '.join(NETS)}, not {net!r}")
    if gta is not None and net != "vocoder":
        raise ValueError("--gta makes a vocoder training set: use it with `vocoder`")
    config = config or PreprocessConfig()
    dataset, out_dir = Path(dataset), Path(out_dir)
    from sv2tts.train.preprocess.datasets import detect_format

    fmt = fmt or detect_format(dataset)
    utterances = read_dataset(dataset, fmt)
    split_counts = None
    if alignments and fmt == "librispeech" and net != "encoder" and has_alignments(dataset):
        max_piece = config.signal.hop_length * config.max_mel_frames / config.signal.sample_rate
        utterances, counts = split_utterances(
            utterances, min_piece=config.min_seconds, max_piece=max_piece
        )
        split_counts = asdict(counts)
        log.info("%s: split at silences: %s", dataset, split_counts)
    out_dir.mkdir(parents=True, exist_ok=True)
    if gta is not None:
        from sv2tts.train.preprocess.gta import gta_frontend

        # The ids are the GTA synthesizer's: its own symbols and cleaners.
        frontend, language = gta_frontend(Path(gta))
    else:
        frontend, language = named_frontend(symbols)
    if net != "encoder":
        description = dataset_json(frontend, language, config)
        if gta is not None:
            description["gta"] = str(Path(gta).resolve())
        _check_or_write_dataset_json(out_dir, description)

    records = read_ledger(out_dir)
    by_id = {u.id: u for u in utterances}
    todo = [u for u in utterances if not is_done(net, out_dir, records.get(u.id), gta is not None)]
    already = len(utterances) - len(todo)
    log.info(
        "%s: %d utterances, %d already done, %d to do", out_dir, len(utterances), already, len(todo)
    )
    job = Job(net, out_dir, frontend, language, config, Path(weights_dir), gta=gta is not None)
    with (out_dir / LEDGER).open("a", encoding="utf-8") as ledger:
        bar = tqdm(
            _outcomes(job, todo, workers),
            total=len(todo),
            desc=f"preprocess {net}",
            unit="utt",
            disable=(not progress) if progress is not None else None,
        )
        for outcome in bar:
            records[outcome.id] = outcome
            ledger.write(json.dumps(outcome.to_json(), ensure_ascii=False) + "\n")
            ledger.flush()

    current = [records[u.id] for u in utterances if u.id in records]
    kept = [o for o in current if o.kept]
    gta_note = None
    extra: dict[str, Any] = {}
    if gta is not None:
        from sv2tts.train.preprocess.gta import write_gta

        extra = write_gta(Path(gta), out_dir, kept)
        gta_note = str(gta)
    write_index(net, out_dir, kept, by_id)
    skipped = Counter(o.reason for o in current if not o.kept)
    summary = Summary(
        net=net,
        dataset=str(dataset),
        format=fmt,
        utterances=len(utterances),
        kept=len(kept),
        hours_kept=round(sum(o.n_samples for o in kept) / config.signal.sample_rate / 3600, 4),
        speakers=len({o.speaker for o in kept}),
        skipped={reason: skipped.get(reason, 0) for reason in SKIP_REASONS},
        processed_now=len(todo),
        already_done=already,
        gta=gta_note,
        alignments=split_counts,
        extra=extra,
    )
    (out_dir / SUMMARY).write_text(json.dumps(summary.to_json(), indent=1) + "\n", encoding="utf-8")
    log.info("preprocess summary: %s", json.dumps(summary.to_json()))
    return summary
