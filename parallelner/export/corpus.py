"""``parallelner export``: the approved pairs as Parquet shards per language pair, a manifest and
a dataset card (or, with ``--format alignxie``, instruction-tuning records).

All or nothing: an export builds a new version folder beside the current one
(``CORPUS/v0004/<src>-<tgt>/part-*.parquet``), then switches ``manifest.json`` to it in one
atomic rename (the manifest names exactly that version's shards, and the card's snippets read
the folder the manifest names), then deletes the old version. A kill or a full disk at any
moment leaves the old corpus or the new one, whole; the next export deletes an unfinished
version folder (a folder holding ``.parallelner-version``, which only an export writes). One
corpus folder holds the export of one run folder in one format: another is refused unless
``replace``.

Streaming: rows go from the candidate parts to the open shard of their language pair, one row
group at a time, so memory does not grow with the corpus.
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Literal

import pyarrow as pa

from parallelner import __version__
from parallelner.errors import ConfigError, DiskFull, InputError
from parallelner.export.alignxie import alignxie_record, load_classes
from parallelner.export.card import dataset_card
from parallelner.export.parquet import ShardWriter
from parallelner.export.selection import ExportError, Include, select_rows
from parallelner.export.tokens import TokenCounts, tag_names, tokens_and_tags
from parallelner.io.atomic import TMP_PREFIX, write_text_atomically
from parallelner.io.locks import hold
from parallelner.io.storage import ObjectStore, is_uri, public_uri
from parallelner.records import EXPORT_SCHEMA, RecordError, check_lang
from parallelner.run.candidate_store import CandidateStore
from parallelner.run.gc_pacing import paced_gc
from parallelner.run.partitions import Gathered, gather_state
from parallelner.run.report import corpus_counts

ExportFormat = Literal["parquet", "alignxie"]

ALIGNXIE_SCHEMA = pa.schema(
    [
        pa.field(n, pa.string(), nullable=False)
        for n in ("id", "src_lang", "tgt_lang", "prompt", "completion")
    ]
)


def with_tokens(row: dict, tag_ids: dict[str, int], counts: TokenCounts | None = None) -> dict:
    """The export row: schema columns only, tokens, BIO tags and their class ids (``tag_ids``:
    name -> id, from ``tag_names``) added on both sides."""
    out = {f.name: row.get(f.name) for f in EXPORT_SCHEMA}
    for side in ("src", "tgt"):
        spans = [(s["start"], s["end"], s["label"]) for s in row[f"{side}_entities"]]
        tokens, tags = tokens_and_tags(row[f"{side}_text"], spans, counts)
        out[f"{side}_tokens"], out[f"{side}_tags"] = tokens, tags
        try:
            out[f"{side}_tag_ids"] = [tag_ids[t] for t in tags]
        except KeyError as e:
            raise ExportError(
                f"candidate {row['id']}: {side} tag {e.args[0]} is not a tag of the source "
                f"labels {sorted(tag_ids)}"
            ) from None
    return out


def _read_json(path: Path) -> dict | list | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


#: The file that marks a folder as an export's version folder (only an export writes it).
VERSION_MARK = ".parallelner-version"
_VERSION = re.compile(r"v(\d{4,})")


def _current(manifest: dict | None) -> str:
    """The version a manifest names ("" before versions: shards at ``<pair>/`` directly)."""
    return str((manifest or {}).get("version") or "")


def next_version(manifest: dict | None, existing: list[str]) -> str:
    """The version after the manifest's and every version folder there is (``v0001`` first)."""
    numbers = [
        int(m.group(1)) for n in [_current(manifest), *existing] if (m := _VERSION.fullmatch(n))
    ]
    return f"v{max(numbers, default=0) + 1:04d}"


def check_replace(
    manifest: dict | None, out_dir: Path, fmt: ExportFormat, replace: bool, where: str
) -> None:
    """Refuse to export ``out_dir`` into a corpus that holds another run folder's export, or
    one in another format, unless ``replace``."""
    if manifest is None or replace:
        return
    theirs, ours = manifest.get("run_folder"), str(out_dir.resolve())
    if theirs and theirs != ours:
        raise ExportError(
            where, None,
            f"holds the export of {theirs}; exporting {out_dir} here would replace it: pass "
            "--replace, or export into another folder",
        )  # fmt: skip
    if manifest.get("format", "parquet") != fmt:
        raise ExportError(
            where, None,
            f"holds a --format {manifest.get('format', 'parquet')} export; --format {fmt} would "
            "replace it: pass --replace, or export into another folder",
        )  # fmt: skip


def _version_folders(corpus: Path) -> list[Path]:
    """The version folders an export wrote under ``corpus`` (marked; nothing else)."""
    if not corpus.is_dir():
        return []
    return sorted(
        p for p in corpus.iterdir()
        if _VERSION.fullmatch(p.name) and p.is_dir() and (p / VERSION_MARK).is_file()
    )  # fmt: skip


def _remove_versions(corpus: Path, keep: str) -> None:
    """Delete every version folder an export wrote under ``corpus`` but ``keep``."""
    for folder in _version_folders(corpus):
        if folder.name != keep:
            shutil.rmtree(folder, ignore_errors=True)


def _remove_old(corpus: Path, old: dict | None, keep: str) -> None:
    """Delete every version folder but ``keep`` and, for a corpus exported before versions,
    the shards its manifest lists (nothing else of the folder: only what an export wrote)."""
    _remove_versions(corpus, keep)
    if old is not None and not _current(old):
        for shard in old.get("shards", []):
            path = corpus / shard["path"]
            if path.parent.parent == corpus:  # <pair>/part-*.parquet, never elsewhere
                path.unlink(missing_ok=True)
                jsonl = path.parent / "alignxie.jsonl"
                jsonl.unlink(missing_ok=True)
                _rmdir_if_empty(path.parent)


def _rmdir_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: the user's files are there too
        folder.rmdir()


def _no_space(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)


def _disk_full(where: str, old: dict | None) -> DiskFull:
    """The full disk's one line: what was kept (the previous corpus, whole, or nothing)."""
    if old is None:
        kept = "no corpus was there before, and none is now"
    else:
        rows = sum(old.get("counts", {}).values())
        name = _current(old) or "the unversioned one"
        kept = f"the previous corpus ({name}, {rows} pairs) is intact"
    return DiskFull(
        f"no space left while exporting into {where}: {kept}; free some space and rerun"
    )


def export_job(
    out_dir: Path,
    corpus: Path | str,
    *,
    include: Include = "auto",
    shard_rows: int = 50_000,
    fmt: ExportFormat = "parquet",
    class_map: Path | None = None,
    allow_missing: bool = False,
    replace: bool = False,
) -> dict:
    """Export ``out_dir``'s approved pairs into ``corpus`` as a new version; return the manifest.

    Both folders are locked for the export (a partition run still going refuses it); a
    candidate id found twice in the parts stops it (two runs overlapped). A folder written by
    partition runs is gathered: a partition without its finished marker stops the export,
    unless ``allow_missing`` (the manifest then lists what is missing).
    """
    if shard_rows < 1:
        raise ConfigError(f"--shard-rows {shard_rows}: must be 1 or more")
    if not (out_dir / "candidates").is_dir():
        raise ConfigError(f"{out_dir}: no candidates/ folder (not a run folder): nothing to export")
    if is_uri(corpus):
        return _export_to_store(
            out_dir, str(corpus), include, shard_rows, fmt, class_map, allow_missing, replace
        )
    corpus = Path(corpus)
    if corpus.exists() and not corpus.is_dir():
        raise ConfigError(f"--out {corpus}: a file, not a folder")
    corpus.mkdir(parents=True, exist_ok=True)
    with hold(out_dir, "parallelner export"), hold(corpus, "parallelner export"):
        old = _read_manifest(corpus)
        check_replace(old, out_dir, fmt, replace, str(corpus))
        _remove_versions(corpus, keep=_current(old))  # an export killed before its switch
        version = next_version(old, [p.name for p in corpus.iterdir()])
        manifest = _build(out_dir, corpus, version, include, shard_rows, fmt, class_map,
                          allow_missing, old, str(corpus))  # fmt: skip
        try:
            # the switch: one rename; then the card, then the old version goes
            write_text_atomically(corpus / "manifest.json", _manifest_text(manifest))
            write_text_atomically(corpus / "README.md", dataset_card(manifest))
        except OSError as e:
            if (corpus / "manifest.json").exists() and _read_manifest(corpus) == manifest:
                raise  # switched: the new corpus is whole, only its card failed
            shutil.rmtree(corpus / version, ignore_errors=True)
            if _no_space(e):
                raise _disk_full(str(corpus), old) from None
            raise
        _remove_old(corpus, old, version)
        return manifest


def _read_manifest(corpus: Path) -> dict | None:
    try:
        found = _read_json(corpus / "manifest.json")
    except ValueError:
        raise ExportError(
            str(corpus / "manifest.json"), None,
            "not JSON: this folder holds something else than a parallelner corpus; export "
            "into another folder",
        ) from None  # fmt: skip
    return found if isinstance(found, dict) else None


def _manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def _build(
    out_dir: Path,
    corpus: Path,
    version: str,
    include: Include,
    shard_rows: int,
    fmt: ExportFormat,
    class_map: Path | None,
    allow_missing: bool,
    old: dict | None,
    where: str,
) -> dict:
    """The new version folder ``corpus/version``, whole, and its manifest (not yet written);
    on any failure the folder is gone again, and a full disk says the old corpus (``where``)
    is intact."""
    folder = corpus / version
    folder.mkdir()
    (folder / VERSION_MARK).write_text(f"{version}\n", encoding="utf-8")
    try:
        CandidateStore(out_dir).check_unique()
        gathered = gather_state(out_dir, allow_missing)
        with paced_gc():  # a row's dicts and lists are garbage a moment later
            manifest = _export(out_dir, folder, include, shard_rows, fmt, class_map, gathered)
    except BaseException as e:
        shutil.rmtree(folder, ignore_errors=True)
        if _no_space(e):
            raise _disk_full(where, old) from None
        raise
    manifest["version"] = version
    manifest["run_folder"] = str(out_dir.resolve())
    for shard in manifest["shards"]:
        shard["path"] = f"{version}/{shard['path']}"
    return manifest


def _export_to_store(
    out_dir: Path,
    uri: str,
    include: Include,
    shard_rows: int,
    fmt: ExportFormat,
    class_map: Path | None,
    allow_missing: bool,
    replace: bool,
) -> dict:
    """Staged here as a version folder, then published object by object, the manifest being
    the switch; the store's old version goes after it (and nothing else of the store)."""
    store = ObjectStore.open(uri)
    with hold(out_dir, "parallelner export"):
        old = store.read_json("manifest.json")
        where = public_uri(uri)
        check_replace(old, out_dir, fmt, replace, where)
        files = store.files()
        version = next_version(old, sorted({f.split("/", 1)[0] for f in files}))
        staging = out_dir / ".staging" / fmt
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        manifest = _build(out_dir, staging, version, include, shard_rows, fmt, class_map,
                          allow_missing, old, where)  # fmt: skip
        write_text_atomically(staging / "manifest.json", _manifest_text(manifest))
        write_text_atomically(staging / "README.md", dataset_card(manifest))
        # the store's version folders are those holding the mark, as locally: a user's own
        # "v2024/" under the prefix is not ours to delete
        marked = {f.split("/", 1)[0] for f in files if f.endswith(f"/{VERSION_MARK}")}
        ours = {f for f in files if f.split("/", 1)[0] in marked - {version}}
        if old is not None and not _current(old):
            ours |= {s["path"] for s in old.get("shards", [])}
        store.publish(staging, stale=ours)
        shutil.rmtree(staging)
    return {**manifest, "published_to": where}


def _pair_folder(corpus: Path, row: dict) -> str:
    """``<src>-<tgt>``, once both are checked to be language codes (a folder name)."""
    try:
        check_lang(row["src_lang"], f"candidate {row['id']}: src_lang")
        check_lang(row["tgt_lang"], f"candidate {row['id']}: tgt_lang")
    except RecordError as e:
        raise InputError(corpus, None, str(e)) from None
    return f"{row['src_lang']}-{row['tgt_lang']}"


def _export(
    out_dir: Path,
    corpus: Path,
    include: Include,
    shard_rows: int,
    fmt: ExportFormat,
    class_map: Path | None,
    gathered: Gathered,
) -> dict:
    labels = CandidateStore(out_dir).labels()
    tags = tag_names(labels)
    token_counts = TokenCounts()
    tag_ids = {name: i for i, name in enumerate(tags)}
    table = load_classes(class_map)
    writers: dict[str, ShardWriter] = {}
    counts: Counter[str] = Counter()
    models: Counter[str] = Counter()
    prompts: Counter[str] = Counter()
    per_pair: Counter[str] = Counter()
    schema, suffix = (ALIGNXIE_SCHEMA, "-alignxie") if fmt == "alignxie" else (EXPORT_SCHEMA, "")
    jsonl: dict[str, object] = {}
    try:
        for row in select_rows(out_dir, include, counts):
            pair = f"{row['src_lang']}-{row['tgt_lang']}"
            if pair not in writers:
                _pair_folder(corpus, row)
                writers[pair] = ShardWriter(corpus / pair, schema, shard_rows, suffix)
                if fmt == "alignxie":
                    tmp = corpus / pair / f"{TMP_PREFIX}alignxie.jsonl"
                    jsonl[pair] = tmp.open("w", encoding="utf-8")
            per_pair[pair] += 1
            models[row["model"]] += 1
            prompts[row["prompt_version"]] += 1
            if fmt == "alignxie":
                record = alignxie_record(row, labels, table)
                jsonl[pair].write(json.dumps(record, ensure_ascii=False) + "\n")  # type: ignore[attr-defined]
                writers[pair].add(record)
            else:
                writers[pair].add(with_tokens(row, tag_ids, token_counts))
    except BaseException:
        for writer in writers.values():
            writer.abort()
        for fh in jsonl.values():
            fh.close()  # type: ignore[attr-defined]
            Path(fh.name).unlink(missing_ok=True)  # type: ignore[attr-defined]
        raise
    shards = {pair: writer.close() for pair, writer in sorted(writers.items())}
    for pair, fh in jsonl.items():
        fh.close()  # type: ignore[attr-defined]
        Path(fh.name).replace(corpus / pair / "alignxie.jsonl")  # type: ignore[attr-defined]
    manifest = {
        "schema_version": EXPORT_SCHEMA.metadata[b"parallelner_schema_version"].decode(),
        "parallelner_version": __version__,
        "format": fmt,
        "include": include,
        "counts": dict(sorted(per_pair.items())),
        "selection": dict(sorted(counts.items())),
        "labels": labels,
        "tag_names": tags,
        "models": dict(models),
        "prompt_versions": dict(prompts),
        "source_files": _read_json(out_dir / "inputs.json") or [],
        "shards": [
            {"path": str(s.path.relative_to(corpus)), "rows": s.rows, "sha256": s.sha256}
            for pair_shards in shards.values()
            for s in pair_shards
        ],
        # counted now: report.json may be older than the last run (partitions end apart)
        "filter_report": _pick(
            corpus_counts(CandidateStore(out_dir)), "by_status", "by_reason", "by_pair"
        ),
        "review_report": _pick(
            _read_json(out_dir / "review" / "report.json"), "reviewed", "by_status", "audit"
        ),
    }
    if fmt == "parquet":  # entities whose boundary fell inside a token of the text alone
        manifest["tokens"] = token_counts.as_dict()
    if gathered.count:
        manifest["partitions"] = gathered.as_dict()
    if fmt == "alignxie":
        manifest["class_map"] = {label: table.get(label, {}) for label in labels}
    return manifest


def _pick(report: object, *keys: str) -> dict | None:
    if not isinstance(report, dict):
        return None
    return {k: report[k] for k in keys if k in report}
