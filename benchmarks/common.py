"""What the benchmarks share: the UNER PUD data and real candidates made from it."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "uner-pud-en-zh"


def scratch_dir(prefix: str) -> Path:
    """A temporary folder for one run of a benchmark, removed when the script exits (a 200k
    volume run leaves hundreds of MB of inputs, parts and corpora behind otherwise)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def real_candidates(folder: Path) -> list:
    """The 691 PUD sentences translated EN->ZH and ZH->EN through the reference endpoint
    (1,382 real candidates: human translations, projected and filtered)."""
    from parallelner.config import load_settings
    from parallelner.reference.process import ReferenceServer
    from parallelner.run.candidate_store import CandidateStore
    from parallelner.run.jobs import translate_job

    with ReferenceServer(DATA / "pairs.jsonl") as server:
        settings = load_settings(overrides={"base_urls": [server.base_url], "model": "reference"})
        for src, tgt in (("en", "zh"), ("zh", "en")):
            translate_job([DATA / f"{src}_pud.iob2"], folder, src, tgt, settings)
    return list(CandidateStore(folder).read())


def translate_both_ways(pairs: Path, inputs: dict, out: Path, faults: dict | None = None) -> None:
    """Both directions of ``inputs`` ({lang: file}) through a reference endpoint serving
    ``pairs`` (with ``faults``), into ``out``."""
    from parallelner.config import load_settings
    from parallelner.reference.process import ReferenceServer
    from parallelner.run.jobs import translate_job

    with ReferenceServer(pairs) as server:
        server.admin("faults", {"faults": faults or {}})
        settings = load_settings(
            overrides={"base_urls": [server.base_url], "model": "reference"}, env={}
        )
        langs = list(inputs)
        for src, tgt in (langs, langs[::-1]):
            translate_job([inputs[src]], out, src, tgt, settings)


def repeated_inputs(
    folder: Path, per_direction: int, langs: tuple[str, ...] = ("en", "zh")
) -> dict:
    """The 691 PUD sentences of each language repeated with distinct ids (``id#k``) up to
    ``per_direction`` samples, as JSONL files in ``folder`` (real sentences, repeated)."""
    from parallelner.readers import read_samples
    from parallelner.run.shards import sample_line

    paths = {}
    for lang in langs:
        samples = list(read_samples([DATA / f"{lang}_pud.iob2"], lang))
        path = folder / f"{lang}-repeated-{per_direction}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for k in range(per_direction):
                s = samples[k % len(samples)]
                fh.write(sample_line(type(s)(f"{s.id}#{k}", s.lang, s.text, s.entities)))
        paths[lang] = path
    return paths


PREFECT = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "prefect")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path) -> tuple[subprocess.Popen, dict]:
    """A Prefect server on 127.0.0.1 (SQLite under ``home``, its own session) and the
    environment that points at it."""
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{env['PREFECT_API_URL']}/health", timeout=2):
                return server, env
        except OSError:
            time.sleep(0.3)
    raise SystemExit("Prefect server did not start")


def recovery_figures(candidates, pairs: Path = DATA / "pairs.jsonl") -> dict[str, dict[str, int]]:
    """Per projection method, over every placed entity: how many, and how many landed on the
    human translation's rendering of *another* source entity (a wrong recovery: the span
    belongs to someone else), on its own rendering (right), or on neither (unverified: the
    model's wording differs from the human one). The human side comes from ``pairs``'s gold
    entities, paired as the reference endpoint pairs them."""
    from parallelner.reference.references import ReferenceIndex, align_entities

    index = ReferenceIndex(pairs)
    out: dict[str, dict[str, int]] = {}
    for c in candidates:
        ref = index.by_id.get(f"pud-{c.source_id}", {}).get(c.src_lang)
        if ref is None or not c.projection:
            continue
        links = align_entities(ref.source.entities, ref.target.entities)
        gold = {}  # (start, end) of a source entity -> (its form, its human rendering), folded
        for i, s in enumerate(ref.source.entities):
            if i in links:
                rendering = ref.target.entities[links[i]].text.casefold()
                gold[(s.start, s.end)] = (s.text.casefold(), rendering)
        for s, t, method in zip(c.src_entities, c.tgt_entities, c.projection, strict=True):
            if t is None or method is None:
                continue
            row = out.setdefault(
                method,
                {"placed": 0, "right": 0, "wrong": 0, "wrong, auto-accepted": 0, "unverified": 0},
            )
            row["placed"] += 1
            text, own = t.text.casefold(), gold.get((s.start, s.end), (None, None))[1]
            # the renderings of entities named otherwise (France twice renders 法國 twice)
            others = {g for f, g in gold.values() if f != s.text.casefold() and g != own}
            if own is not None and (text == own or text in own or own in text):
                row["right"] += 1
            elif any(text == g or (len(text) > 1 and (text in g or g in text)) for g in others):
                row["wrong"] += 1
                auto = c.status == "passed" and (c.confidence or 0.0) >= 0.9
                row["wrong, auto-accepted"] += auto
                row.setdefault("wrong_ids", []).append(f"{c.id}: {s.text} -> {t.text}")
            else:
                row["unverified"] += 1
    return out


def print_recoveries(figures: dict[str, dict]) -> None:
    """One line per projection method: placed, right, wrong (with each wrong one), unverified."""
    for method in ("model", "normalised", "asked", "located"):
        row = figures.get(method)
        if not row:
            print(f"  {method}: 0")
            continue
        print(f"  {method}: {row['placed']} placed, {row['right']} on their own rendering, "
              f"{row['wrong']} on another entity's ({row['wrong, auto-accepted']} of them "
              f"auto-accepted), {row['unverified']} unverified")  # fmt: skip
        for w in row.get("wrong_ids", []) if method != "model" else []:
            print(f"    wrong: {w}")
