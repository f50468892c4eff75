"""parallelner: translate, filter, review, export, evaluate, report; reference-server.

A user's mistake (bad input, a missing setting, a refused key) prints one line and exits
non-zero, never a traceback: ``path:line: message`` for input, ``error: message`` otherwise.
Exit codes: 2 input or setting, 3 the LLM endpoint, 4 Label Studio, 5 the folder or project is
in use by another run, 6 the machine (disk full, permissions), 130 interrupted.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

# Only what `parallelner --help` needs is imported here; each command imports its own stack
# (openai, pyarrow, label_studio_sdk, pandas) when it runs.
from parallelner.config import (
    ADEQUACY_METHODS,
    BACKENDS,
    PAIR_THRESHOLDS,
    FilterSettings,
    RoutingSettings,
    Settings,
)
from parallelner.errors import (
    ConfigError,
    DiskFull,
    EndpointError,
    InputError,
    ReviewServerError,
)
from parallelner.formats import FORMATS
from parallelner.glossary import MIN_SHARE
from parallelner.io.locks import LockHeld
from parallelner.llm.structured import STRUCTURED_OUTPUTS
from parallelner.reasons import REASONS
from parallelner.redact import redact_error

if TYPE_CHECKING:
    from rich.console import Console

    from parallelner.config import Settings

#: The defaults every flag's help names: the settings dataclasses' own.
_DEFAULTS, _FILTERS, _ROUTING = Settings(), FilterSettings(), RoutingSettings()
#: Settings no flag gives: the key (environment only), tables set by their own flags
#: (--threshold, the reading flags) and what only a config file or variable sets.
_NOT_FLAGS = ("api_key", "filters", "read", "temperature", "max_tokens")
_PACKAGED_SAMPLE = Path(__file__).parent / "_sample"
SAMPLE_DIR = (
    _PACKAGED_SAMPLE if _PACKAGED_SAMPLE.is_dir() else Path(__file__).parent.parent / "sample"
)


def _settings_flags(p: argparse.ArgumentParser, *, translate: bool = True) -> None:
    """The settings a command uses, in groups; ``translate``: all of them, else (``filter``)
    the thresholds and what the optional LLM checks need. Defaults are those of an empty
    config; ``--config``, then ``PARALLELNER_*`` variables, then flags override them."""
    p.add_argument("--config", type=Path, help="TOML settings file (flags and env override it)")
    title = "endpoint" if translate else "endpoint (for --verify and --round-trip only)"
    e = p.add_argument_group(title)
    e.add_argument(
        "--base-url",
        dest="base_urls",
        action="append",
        help="OpenAI-compatible endpoint; repeat for a pool of replicas (env "
        f"PARALLELNER_BASE_URL, comma-separated; default {','.join(_DEFAULTS.base_urls)})",
    )
    e.add_argument("--model", help="model name (env PARALLELNER_MODEL; required)")
    if translate:
        e.add_argument("--escalate-model", help="stronger model for samples the first one fails")
        e.add_argument(
            "--backend",
            choices=BACKENDS,
            help=f"openai: an HTTP endpoint, or vllm in this process (default {_DEFAULTS.backend})",
        )
    e.add_argument(
        "--concurrency",
        type=int,
        help=f"requests in flight, in all (default {_DEFAULTS.concurrency})",
    )
    if translate:
        e.add_argument(
            "--workers",
            type=int,
            help="translate processes sharing --concurrency (default: one per core once "
            "there are 1000 samples each)",
        )
    e.add_argument(
        "--structured-output",
        choices=STRUCTURED_OUTPUTS,
        help="how requests ask for JSON: json_schema (vLLM, SGLang, OpenAI), json_object "
        "(llama-cpp-python, Ollama), prompt (any server); auto (default) probes each endpoint "
        f"once and steps down at a refusal (default {_DEFAULTS.structured_output})",
    )
    e.add_argument(
        "--timeout", type=float, help=f"seconds per request (default {_DEFAULTS.timeout:g})"
    )
    e.add_argument(
        "--max-retries",
        type=int,
        help=f"retries of a transient failure (default {_DEFAULTS.max_retries})",
    )
    if translate:
        e.add_argument(
            "--max-attempts",
            type=int,
            help=f"rounds per sample, repairs incl. ({_DEFAULTS.max_attempts})",
        )
        e.add_argument(
            "--no-recover",
            dest="recover",
            action="store_const",
            const=False,
            help="no recovery of an entity whose form the reply got wrong (asked in one short "
            "call, or located here) before a repair round; default on",
        )
    e.add_argument(
        "--cache", help="response cache file, or off (none) (default OUT/cache/responses.sqlite)"
    )
    p.add_argument(
        "--glossary",
        metavar="FILE",
        help="required renderings (TSV or JSONL: source, label, pair, target, origin): asked "
        "for in the prompt and checked (glossary_mismatch); `parallelner glossary build` "
        "proposes one (env PARALLELNER_GLOSSARY; TOML glossary)",
    )
    if translate:
        p.add_argument(
            "--retranslate",
            action="append",
            metavar="REASON",
            choices=REASONS,
            help="translate again the pairs rejected for REASON (repeat), e.g. "
            "glossary_mismatch after a new --glossary (TOML retranslate = [...])",
        )
    f = p.add_argument_group("filters")
    f.add_argument(
        "--untranslated-overlap",
        type=float,
        help=f"max copied word share ({_FILTERS.untranslated_overlap})",
    )
    f.add_argument(
        "--min-length-ratio",
        type=float,
        help="override every pair's band minimum (default: the band measured for the pair, "
        "docs/filters.md)",
    )
    f.add_argument("--max-length-ratio", type=float, help="override every pair's band maximum")
    f.add_argument(
        "--threshold",
        action="append",
        metavar="PAIR:NAME=VALUE",
        help="a threshold for one language pair, e.g. en-zh:min_length_ratio=0.9 (repeat); "
        f"names: {', '.join(PAIR_THRESHOLDS)}",
    )
    f.add_argument(
        "--verify",
        action="store_const",
        const=True,
        help="ask the LLM which span translates each entity of passed pairs with 2+ entities "
        "(one short call each; default off)",
    )
    f.add_argument(
        "--round-trip",
        action="store_const",
        const=True,
        help="back-translate passed pairs and check entities return (doubles cost; default off)",
    )
    f.add_argument(
        "--adequacy",
        choices=ADEQUACY_METHODS,
        help="check that the translation says what the source says, or send the pair to "
        "review: checks (numbers and words left untranslated, no LLM call; the default), "
        "round_trip (checks + chrF of a back-translation, one more call; shared with "
        "--round-trip), judge (checks + the model scores it, one short call) or off",
    )
    f.add_argument(
        "--min-adequacy",
        type=float,
        metavar="SCORE",
        help="adequacy score in [0, 1] under which a pair goes to review "
        "(default round_trip 0.5, judge 0.75)",
    )


def _reader_flags(p: argparse.ArgumentParser) -> None:
    """How input files are read: the same flags for translate and inspect (TOML ``[read]``,
    variables ``PARALLELNER_READ_*``)."""
    g = p.add_argument_group("reading (TOML [read])")
    g.add_argument(
        "--format",
        choices=FORMATS,
        help="input format (default auto: by suffix, then by content; CoNLL otherwise)",
    )
    g.add_argument(
        "--lenient-tags",
        action="store_const",
        const=True,
        help="read an I- tag that starts an entity as B- (IOB1, e.g. CoNLL-2003's original "
        "files) and unclosed BIOES entities as IOB, instead of refusing the sentence",
    )
    g.add_argument(
        "--label-names",
        help="comma-separated names of Parquet class ids, in id order (default: the file's "
        "Hugging Face metadata)",
    )
    g.add_argument(
        "--columns",
        metavar="KEY=COL,...",
        help="where fields are: CoNLL by position from 0 (token=1,tag=2), JSONL and Parquet by "
        "name (tags=labels, tokens=words, text=sentence, entities=ents, id=guid)",
    )


def _read_overrides(args: argparse.Namespace) -> dict[str, object]:
    return {
        "format": args.format,
        "lenient_tags": args.lenient_tags,
        "label_names": args.label_names,
        "columns": args.columns,
    }


def _pair_thresholds(values: list[str] | None) -> dict[str, dict[str, str]] | None:
    """``--threshold en-zh:min_length_ratio=0.9`` (repeated) as {pair: {name: value}}."""
    if not values:
        return None
    out: dict[str, dict[str, str]] = {}
    for item in values:
        pair, _, setting = item.partition(":")
        name, _, value = setting.partition("=")
        if not (pair and name and value):
            raise ConfigError(
                f"--threshold {item!r}: expected PAIR:NAME=VALUE, e.g. en-zh:min_length_ratio=0.9"
            )
        out.setdefault(pair, {})[name] = value
    return out


#: The thresholds a folder keeps from one judging to the next (``filter`` starts from them).
KEPT_THRESHOLDS = (
    "untranslated_overlap",
    "min_length_ratio",
    "max_length_ratio",
    "min_language_share",
    "langdetect_min_prob",
    "adequacy",
    "min_adequacy",
    "by_pair",
)


def _folder_thresholds(out_dir: Path) -> dict[str, object]:
    """The thresholds the folder was last judged with (``report.json``), or none."""
    import json

    try:
        report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
        found = report["filters"]["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {k: found[k] for k in KEPT_THRESHOLDS if isinstance(found, dict) and k in found}


def _load(args: argparse.Namespace, base: dict[str, object] | None = None) -> Settings:
    from parallelner.config import load_settings

    # every setting a flag can give has the setting's name (None: the flag was not given)
    overrides: dict[str, object] = {
        f.name: getattr(args, f.name, None) for f in fields(Settings) if f.name not in _NOT_FLAGS
    }
    overrides["filters"] = {
        f.name: getattr(args, f.name, None) for f in fields(FilterSettings) if f.name != "by_pair"
    }
    overrides["filters"]["by_pair"] = _pair_thresholds(args.threshold)  # type: ignore[index]
    if hasattr(args, "columns"):
        overrides["read"] = _read_overrides(args)
    return load_settings(args.config, overrides, file_values={"filters": base} if base else None)


def _version() -> str:
    from parallelner import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parallelner",
        description=__doc__.split("\n")[0],
        epilog="Exit codes: 0 done; 2 a mistake in the command, its files or settings; 3 the "
        "LLM endpoint; 4 Label Studio; 5 a folder or project in use by another run; 6 the "
        "machine (disk full, permissions); 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"parallelner {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("translate", help="translate + project + filter into DIR/candidates")
    t.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        help="annotated corpus files (CoNLL/IOB2/BIOES/BMES, char-level, JSONL, Parquet)",
    )
    t.add_argument("--src-lang", required=True, help="language code of INPUT, e.g. en")
    t.add_argument("--tgt-lang", required=True, help="language code to translate into, e.g. zh")
    t.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="the run folder: candidates/, cache/, report.json (resumed when it exists)",
    )
    t.add_argument(
        "--on-bad-record",
        choices=("fail", "skip"),
        help=f"fail or skip to DIR/quarantine.jsonl (default {_DEFAULTS.on_bad_record})",
    )
    _reader_flags(t)
    t.add_argument("--limit", type=int, help="read at most N samples (a debug run)")
    t.add_argument(
        "--rows-per-part",
        type=int,
        help=f"candidates per Parquet part (default {_DEFAULTS.rows_per_part})",
    )
    t.add_argument(
        "--partition",
        metavar="I/N",
        help="only partition I of N (by a stable hash of the sample id), for runs on several "
        "machines into one DIR; export gathers them (env PARALLELNER_PARTITION; default: all)",
    )
    t.add_argument("--no-progress", action="store_true", help="no progress line (default: shown)")
    t.add_argument(
        "--force",
        action="store_true",
        help="translate even when the first sentences do not read as --src-lang",
    )
    _settings_flags(t)

    i = sub.add_parser(
        "inspect",
        help="read FILEs as translate would and show what was read; sends nothing",
        description="Read FILEs exactly as translate would (the same flags and TOML [read] "
        "keys) and print the format and tag scheme detected, what was normalised, samples, "
        "tokens, entities per label, bad records and the first sentences. Sends nothing.",
    )
    i.add_argument("inputs", nargs="+", type=Path, metavar="FILE", help="corpus files")
    i.add_argument("--lang", required=True, help="the files' language code, e.g. en")
    i.add_argument("--config", type=Path, help="TOML settings file; its [read] table applies")
    _reader_flags(i)
    i.add_argument("--limit", type=int, help="read at most N samples")
    i.add_argument(
        "--dump",
        type=Path,
        metavar="OUT.jsonl",
        help="also write every sample as JSONL (id, lang, text, entities with start, end, "
        "label, text): the schema --format jsonl reads",
    )
    i.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    f = sub.add_parser(
        "filter",
        help="re-run the filters on DIR's candidates (LLM calls only for --verify, "
        "--round-trip, --adequacy round_trip|judge)",
    )
    f.add_argument("out", type=Path, metavar="DIR", help="a run folder (translate's --out)")
    _settings_flags(f, translate=False)

    r = sub.add_parser("reference-server", help="the OpenAI-compatible reference endpoint")
    r.add_argument(
        "--pairs",
        type=Path,
        default=SAMPLE_DIR / "pud-pairs.jsonl",
        help="pairs JSONL whose human translations it answers with (default: the sample's)",
    )
    r.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    r.add_argument("--port", type=int, default=8000, help="port to bind, 0 for any (8000)")
    r.add_argument("--latency", type=float, default=0.0, help="seconds before every answer")
    r.add_argument(
        "--faults",
        type=Path,
        help='JSON file: {pair_id: "kind[:times]"} or {pair_id: {"kind": ..., "times": ...}}; '
        "kinds in docs/endpoints.md (The reference endpoint)",
    )
    r.add_argument("--api-key-env", help="require the key held in this environment variable")
    r.add_argument("--ready-file", type=Path, help="write {port, pid} here once bound")

    rv = sub.add_parser("review", help="human review in Label Studio").add_subparsers(
        dest="review_command", required=True
    )
    push = rv.add_parser(
        "push",
        help="push routed candidates as Label Studio tasks",
        description="Push routed candidates as tasks to the Label Studio at LABEL_STUDIO_URL, "
        "with the token in LABEL_STUDIO_API_KEY.",
    )
    push.add_argument("out", type=Path, metavar="DIR", help="a run folder (translate's --out)")
    push.add_argument("--project", required=True, help="Label Studio project title")
    push.add_argument(
        "--routing",
        choices=("routed", "all"),
        default=_ROUTING.policy,
        help=f"routed: low-confidence pairs + an audit sample; all (default {_ROUTING.policy})",
    )
    push.add_argument(
        "--low-confidence",
        type=float,
        default=_ROUTING.low_confidence,
        help=f"passed pairs below this confidence always go to review ({_ROUTING.low_confidence})",
    )
    push.add_argument(
        "--audit-rate",
        type=float,
        default=_ROUTING.audit_rate,
        help=f"share of high-confidence pairs audited ({_ROUTING.audit_rate})",
    )
    push.add_argument("--seed", type=int, default=_ROUTING.seed, help="seed of the audit sample")
    push.add_argument("--chunk-size", type=int, default=200, help="tasks per import request")
    pull = rv.add_parser(
        "pull",
        help="read finished annotations back as decisions",
        description="Read the finished annotations of the Label Studio at LABEL_STUDIO_URL "
        "(token in LABEL_STUDIO_API_KEY) into DIR/review/decisions.parquet.",
    )
    pull.add_argument("out", type=Path, metavar="DIR", help="the run folder that was pushed")
    pull.add_argument("--project", required=True, help="Label Studio project title")
    for p in (push, pull):
        p.add_argument(
            "--retry-seconds",
            type=float,
            default=120.0,
            help="how long to retry while Label Studio is down, each retry announced (120)",
        )
    rep = rv.add_parser("report", help="review progress and the audit precision estimate")
    rep.add_argument("out", type=Path, metavar="DIR", help="a run folder that was pulled")

    e = sub.add_parser("export", help="write the approved pairs as Parquet shards")
    e.add_argument("out", type=Path, metavar="DIR", help="a run folder (translate's --out)")
    e.add_argument(
        "--out",
        dest="corpus",
        required=True,
        metavar="CORPUS",
        help="a folder, or an object store URI: s3://bucket/prefix[?endpoint_override=HOST:PORT"
        "&scheme=http] (credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
    )
    e.add_argument(
        "--include",
        choices=("auto", "reviewed"),
        default="auto",
        help="auto: reviewed-approved + passed pairs not routed to review (default)",
    )
    e.add_argument("--shard-rows", type=int, default=50_000, help="rows per shard (50000)")
    e.add_argument(
        "--format",
        dest="fmt",
        choices=("parquet", "alignxie"),
        default="parquet",
        help="parquet shards (default) or AlignXIE instruction records",
    )
    e.add_argument("--class-map", type=Path, help="JSON label -> {class, description} (alignxie)")
    e.add_argument(
        "--allow-missing",
        action="store_true",
        help="export a partitioned DIR even when some partitions are not finished (listed in "
        "the manifest; default: refuse)",
    )
    e.add_argument(
        "--replace",
        action="store_true",
        help="let this export replace a CORPUS that holds another run folder's export or "
        "another --format (default: refuse)",
    )

    _glossary_parsers(sub)

    rp = sub.add_parser("report", help="one self-contained HTML page about DIR (plots, counts)")
    rp.add_argument("out", type=Path, metavar="DIR", help="a run folder (translate's --out)")
    rp.add_argument("--html", type=Path, help="where to write it (default DIR/report.html)")

    ev = sub.add_parser("evaluate", help="target entities of CORPUS against gold annotations")
    ev.add_argument("corpus", type=Path, metavar="CORPUS", help="an exported corpus folder")
    ev.add_argument("--gold", type=Path, required=True, help="pairs JSONL with gold on both sides")
    ev.add_argument("--json", type=Path, help="where to write the figures (CORPUS/evaluation.json)")

    return parser


def _glossary_parsers(sub: argparse._SubParsersAction) -> None:
    gl = sub.add_parser(
        "glossary", help="how consistently DIR renders repeated entities; the glossary it proposes"
    ).add_subparsers(dest="glossary_command", required=True)
    show = gl.add_parser(
        "show",
        help="every source entity in two or more passed pairs: its renderings with counts",
        description="For every source entity (normalised surface and label) in two or more "
        "passed pairs of a direction: the share rendered one way, and the entities rendered "
        "more than one way with each rendering's count. Sends nothing.",
    )
    show.add_argument("out", type=Path, metavar="DIR", help="a run folder (translate's --out)")
    show.add_argument("--top", type=int, default=20, help="variants shown per direction (20)")
    show.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    build = gl.add_parser(
        "build",
        help="propose a glossary: the run's clear majorities and reviewers' corrections",
        description="Write a glossary proposed by DIR: for each repeated entity whose most "
        "frequent rendering has --min-share of its pairs, that rendering (origin majority); "
        "for each target span a reviewer corrected (review pull), the corrected form (origin "
        "review, outranking a majority); the entries of --glossary kept (a user's entry "
        "outranks both).",
    )
    build.add_argument("out", type=Path, metavar="DIR", help="a run folder (translate's --out)")
    build.add_argument(
        "--output",
        "-o",
        type=Path,
        required=True,
        metavar="FILE",
        help="the glossary to write: FILE.tsv as TSV, any other name as JSONL",
    )
    build.add_argument("--glossary", type=Path, metavar="FILE", help="a glossary to keep")
    build.add_argument(
        "--min-share",
        type=float,
        default=MIN_SHARE,
        help=f"the share of its pairs a majority needs ({MIN_SHARE})",
    )


def _run_folder(path: Path, what: str = "a run folder (translate's --out)") -> Path:
    """``path`` when it is a run folder; a ConfigError (exit 2) that creates nothing else."""
    if not path.is_dir():
        found = "a file" if path.exists() else "no such folder"
        raise ConfigError(f"{path}: {found}: not {what}")
    if not (path / "candidates").is_dir():
        raise ConfigError(f"{path}: no candidates/ folder: not {what}")
    return path


def _input_files(paths: list[Path], flag: str) -> None:
    """A ConfigError for an input that is missing or a folder, before anything is created."""
    for path in paths:
        if not path.exists():
            raise ConfigError(f"{path}: no such file ({flag})")
        if path.is_dir():
            raise ConfigError(f"{path}: a folder, not a file ({flag})")


def _out_folder(path: Path, flag: str = "--out") -> None:
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path}: a file, not a folder")


def _translate(args: argparse.Namespace, console: Console) -> int:
    from parallelner.run.jobs import translate_job
    from parallelner.run.progress import live_progress
    from parallelner.run.report import print_summary

    _out_folder(args.out)
    settings = _load(args)
    if settings.on_bad_record != "skip":  # skip quarantines a missing input, and goes on
        _input_files(args.inputs, "INPUT")
    with live_progress(console, enabled=not args.no_progress) as progress:
        report = translate_job(
            args.inputs,
            args.out,
            args.src_lang,
            args.tgt_lang,
            settings,
            limit=args.limit,
            progress=progress,
            force=args.force,
        )
    print_summary(report, console)
    console.print(f"candidates: {args.out / 'candidates'}  report: {args.out / 'report.json'}")
    if settings.partition:
        console.print(
            f"partition {settings.partition} finished; `parallelner export {args.out}` gathers "
            "the partitions once all are"
        )
    return 0


def _inspect(args: argparse.Namespace, console: Console) -> int:
    import json

    from parallelner.config import load_settings
    from parallelner.readers.inspection import inspect_files

    _input_files(args.inputs, "FILE")
    settings = load_settings(args.config, {"read": _read_overrides(args)})
    result = inspect_files(args.inputs, args.lang, settings.read, limit=args.limit, dump=args.dump)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return 0
    print_inspection(result, console)
    return 0


def print_inspection(result, console: Console) -> None:
    """What ``inspect`` read, file by file, then its first sentences (plain text)."""
    from functools import partial

    from parallelner.readers.inspection import marked

    out = partial(console.print, markup=False, highlight=False, soft_wrap=True)
    for report in result.stats.files.values():
        out(report.path)
        columns = " ".join(f"{k}={v}" for k, v in report.columns.items())
        where = f", columns {columns}" if columns else ""
        if report.format == "conll" or report.format.startswith("conll,"):
            where += " (from 0)" if columns else ""
        out(
            f"  format      {report.format}, tag scheme {report.scheme or '-'}{where}", markup=False
        )
        tokens = f" ({report.tokens:,} tokens)" if report.tokens is not None else ""
        out(f"  samples     {report.samples:,}{tokens}, bad records {report.bad_records:,}")
        by_label = sorted(report.entities.items(), key=lambda kv: (-kv[1], kv[0]))
        entities = ", ".join(f"{k} {v:,}" for k, v in by_label)
        total = sum(report.entities.values())
        out(f"  entities    {total:,}" + (f": {entities}" if entities else ""))
        notes = "; ".join(f"{what}: {n:,}" for what, n in report.normalised.items())
        out(f"  normalised  {notes or 'nothing'}")
    if len(result.stats.files) > 1:
        ents = sum(result.entities().values())
        out(f"all files: {result.samples:,} samples, {ents:,} entities")
    for error in result.stats.bad:
        out(f"  bad record  {error}")
    if result.stats.skipped:
        out(
            f"{result.stats.skipped:,} bad records: translate stops at the first "
            "(--on-bad-record skip sets them aside in OUT/quarantine.jsonl)"
        )
    out("first sentences:")
    for sample in result.first:
        out(f"  {sample.id}  {marked(sample)}")
    if result.dumped:
        out(f"samples: {result.dumped} (read it with --format jsonl)")


def _filter(args: argparse.Namespace, console: Console) -> int:
    from dataclasses import asdict

    from parallelner.run.jobs import filter_job
    from parallelner.run.report import print_summary

    before = _folder_thresholds(_run_folder(args.out))
    settings = _load(args, before)
    now = asdict(settings.filters)
    changed = [f"{k} {before[k]} -> {now[k]}" for k in before if before[k] != now[k]]
    report = filter_job(args.out, settings)
    print_summary(report, console)
    if changed:
        console.print(
            f"thresholds changed from the folder's last judging: {'; '.join(changed)}",
            markup=False,
            highlight=False,
        )
    elif before:
        console.print("thresholds: the folder's own, kept from its last judging")
    return 0


def _review(args: argparse.Namespace, console: Console) -> int:
    from parallelner.config import RoutingSettings
    from parallelner.review.jobs import (
        progress_line,
        push_sentence,
        read_push,
        review_progress,
        review_pull_job,
        review_push_job,
        review_report_job,
    )
    from parallelner.review.label_studio import LabelStudioServer
    from parallelner.run.report import phrase

    _run_folder(args.out)
    if args.review_command == "report":
        print_review_report(review_report_job(args.out), console)
        return 0
    server = LabelStudioServer.from_env(retry_seconds=args.retry_seconds)
    if args.review_command == "push":
        routing = RoutingSettings(args.routing, args.low_confidence, args.audit_rate, args.seed)
        result = review_push_job(args.out, args.project, server, routing, args.chunk_size)
        console.print(push_sentence(result), markup=False, highlight=False)
    else:
        result = review_pull_job(args.out, args.project, server)
        console.print(
            f"project {args.project!r}: {result['tasks']} tasks, {result['finished']} decided "
            f"({phrase(result['by_status'])}), {result['pending']} pending, "
            f"{result['conflicts']} conflicts -> {args.out / 'review' / 'decisions.parquet'}",
            markup=False,
            highlight=False,
        )
        pushed = read_push(args.out)
        if pushed.get("project") == args.project:
            console.print(progress_line(review_progress(pushed, result)))
    return 0


def _export(args: argparse.Namespace, console: Console) -> int:
    from parallelner.export.corpus import export_job
    from parallelner.export.selection import selection_sentence

    _run_folder(args.out)
    manifest = export_job(
        args.out,
        args.corpus,
        include=args.include,
        shard_rows=args.shard_rows,
        fmt=args.fmt,
        class_map=args.class_map,
        allow_missing=args.allow_missing,
        replace=args.replace,
    )
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items()) or "no pairs"
    where = manifest.get("published_to") or args.corpus
    shards = len(manifest["shards"])
    console.print(f"exported {counts} in {shards} shards -> {where} ({manifest['version']})")
    console.print(selection_sentence(manifest["selection"]), markup=False, highlight=False)
    if parts := manifest.get("partitions"):
        missing = "; ".join(
            f"{pair} partition{'s' if len(m) > 1 else ''} {', '.join(map(str, m))} of "
            f"{parts['count']}"
            for pair, m in parts["missing"].items()
            if m
        )
        gathered = f"gathered {parts['count']} partitions"
        console.print(f"{gathered}; missing: {missing}" if missing else f"{gathered}, none missing")
    return 0


def _report(args: argparse.Namespace, console: Console) -> int:
    from parallelner.report.html import write_html_report

    _run_folder(args.out)
    if args.html is not None and args.html.is_dir():
        raise ConfigError(f"--html {args.html}: a folder; name the page's file (report.html)")
    path = write_html_report(args.out, args.html)
    console.print(f"report: {path}  (open it in a browser; it fetches nothing)")
    return 0


def _evaluate(args: argparse.Namespace, console: Console) -> int:
    import json

    from rich.table import Table

    from parallelner.report.evaluate import evaluate
    from parallelner.run.report import phrase

    _input_files([args.gold], "--gold")
    if args.corpus.exists() and not args.corpus.is_dir():
        raise ConfigError(f"{args.corpus}: a file; expected an exported corpus folder")
    result = evaluate(args.corpus, args.gold)
    table = Table(title=f"target entities vs {args.gold.name}")
    for col in (
        "label",
        "exact P",
        "exact R",
        "exact F1",
        "overlap P",
        "overlap R",
        "overlap F1",
        "gold",
    ):
        table.add_column(col, justify="left" if col == "label" else "right")
    for label, exact in result["scores"]["exact"].items():
        over = result["scores"]["overlap"][label]
        table.add_row(
            label,
            *(f"{exact[k]:.3f}" for k in ("precision", "recall", "f1")),
            *(f"{over[k]:.3f}" for k in ("precision", "recall", "f1")),
            str(exact["gold"]),
        )
    console.print(table)
    console.print(
        f"matched {result['matched_rows']} of {result['corpus_rows']} corpus rows to "
        f"{result['gold_pairs']} gold pairs; missing from the corpus: "
        f"{phrase(result['missing_share'], unit='%')}"
    )
    path = args.json or args.corpus / "evaluation.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    console.print(f"figures: {path}")
    return 0


def _glossary(args: argparse.Namespace, console: Console) -> int:
    _run_folder(args.out)
    if args.glossary_command == "show":
        import json

        from parallelner.glossary.consistency import COLUMNS, consistency
        from parallelner.run.candidate_store import CandidateStore

        found = consistency(CandidateStore(args.out).rows(COLUMNS))
        if args.json:
            print(json.dumps({p: c.as_dict(args.top) for p, c in found.items()}, indent=2,
                             ensure_ascii=False))  # fmt: skip
            return 0
        print_consistency(found, console, args.top)
        return 0
    from parallelner.glossary.entries import glossary_text, load_glossary
    from parallelner.io.atomic import write_text_atomically
    from parallelner.review.glossary import propose_glossary

    _out_folder(args.output, "--output")
    given = load_glossary(args.glossary) if args.glossary else None
    proposal = propose_glossary(args.out, given, args.min_share)
    tsv = args.output.suffix.lower() == ".tsv"
    write_text_atomically(args.output, glossary_text(proposal.glossary, tsv))
    p = proposal
    console.print(
        f"glossary: {args.output}: {len(p.glossary)} entries ({p.user} kept from --glossary, "
        f"{p.review} from reviewers' corrections, {p.majority} from clear majorities); "
        f"{p.unclear} repeated entities without a clear majority, {p.ambiguous} corrected "
        "spans not matched to one entity",
        highlight=False,
    )
    for line in p.overruled:
        console.print(f"  a correction replaces the majority: {line}", highlight=False)
    return 0


def print_consistency(found: dict, console: Console, top: int = 20) -> None:
    """Each direction's share of repeated entities rendered one way, and its variants."""
    from rich.table import Table

    if not found:
        console.print("no passed pair has a projected entity yet", highlight=False)
    for pair, c in found.items():
        if c.share is None:
            line = f"{pair}: {c.entities} entities, none in two or more passed pairs"
        else:
            line = (
                f"{pair}: {c.entities} entities, {c.repeated} in two or more passed pairs, "
                f"{c.one_way} of them rendered one way ({c.share:.1%})"
            )
        console.print(line, highlight=False)
        if not c.variants:
            continue
        table = Table(title=f"{pair}: entities rendered more than one way")
        for name in ("source", "label", "pairs", "renderings"):
            table.add_column(name)
        for v in c.variants[:top]:
            shown = ", ".join(f"{t} ({n})" for t, n in v.renderings.items())
            table.add_row(v.source, v.label, str(v.pairs), shown)
        console.print(table)
        if len(c.variants) > top:
            console.print(f"... and {len(c.variants) - top} more (--top)", highlight=False)


def print_review_report(report: dict, console: Console) -> None:
    """The review report: progress, effort, and the audit estimate."""
    from functools import partial

    from parallelner.review.audit import estimate_sentence
    from parallelner.run.report import phrase

    say = partial(console.print, markup=False, highlight=False)
    say(
        f"reviewed {report['reviewed']} of {report['passed']} passed pairs "
        f"({phrase(report['by_status'])}); by route: {phrase(report['by_route'])}; by "
        f"reviewer: {phrase(report['by_reviewer'])}; {report['conflicts']} conflicts"
    )
    pending = report.get("pending") or {}
    say(
        f"{report.get('auto_accepted', 0)} passed pairs auto-accepted (exported without "
        f"review); {sum(pending.values())} routed to review and not decided yet"
        + (f" ({phrase(pending)})" if pending else "")
    )
    audit = report["audit"]
    if audit["precision"] is None:
        say("audit: no audited pair reviewed yet; no precision estimate")
        return
    say(f"audit: {estimate_sentence(audit)}")


#: The exit code of each error a user acts on (printed as one line: ``error: ...``).
EXIT_CODES: tuple[tuple[type[Exception], int], ...] = (
    (ConfigError, 2),
    (EndpointError, 3),
    (ReviewServerError, 4),
    (LockHeld, 5),
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from rich.console import Console

    console = Console()
    try:
        if args.command == "reference-server":
            from parallelner.reference.server import serve

            serve(
                args.pairs,
                host=args.host,
                port=args.port,
                latency=args.latency,
                faults=args.faults,
                api_key_env=args.api_key_env,
                ready_file=args.ready_file,
            )
            return 0
        handler = {
            "translate": _translate,
            "inspect": _inspect,
            "filter": _filter,
            "review": _review,
            "export": _export,
            "evaluate": _evaluate,
            "report": _report,
            "glossary": _glossary,
        }
        return handler[args.command](args, console)
    except InputError as e:
        print(redact_error(str(e)), file=sys.stderr)
        return 2
    except (ConfigError, EndpointError, ReviewServerError, LockHeld) as e:
        print(f"error: {redact_error(str(e))}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES if isinstance(e, kind))
    except OSError as e:
        print(f"error: {redact_error(describe_os_error(e))}", file=sys.stderr)
        return 6
    except KeyboardInterrupt:
        print("interrupted: finished parts are kept; rerun to resume", file=sys.stderr)
        return 130


def describe_os_error(e: OSError) -> str:
    """One line for a failure of the machine (disk full, permissions), naming the file."""
    if isinstance(e, DiskFull):
        return e.message
    where = e.filename or "a file"
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (
            f"no space left while writing {where}: every finished part is kept (whole parts "
            "only) and finished LLM calls are in the response cache; free some space and rerun "
            "the same command to resume"
        )
    return f"{e.strerror or e}: {where}"


def run() -> NoReturn:
    """The ``parallelner`` command: ``main``, then exit without the interpreter's teardown
    (``fast_exit``: 0.3-1 s after the work is done; every file a command writes is closed, and
    its parts fsynced, before ``main`` returns)."""
    from parallelner.run.fast_exit import exit_now

    exit_now(main())


if __name__ == "__main__":
    run()
