"""The user's journey: mistakes caught before paying, each command's own flags, counts that
say what they count."""

from __future__ import annotations

import json

from conftest import cli, one_line, translate


def test_a_file_read_with_the_wrong_source_language_is_refused_before_paying(
    ref, sample_dir, tmp_path
):
    ref.admin("reset")
    r = translate(sample_dir / "zh-pud.iob2", tmp_path / "out", ref.base_url)  # --src-lang en
    # 97: three sentences are too short or too full of names to judge
    assert r.returncode == 2
    line = one_line(r)
    assert line == (
        f"error: {sample_dir / 'zh-pud.iob2'}: --src-lang en, but 97 of 97 sampled sentences "
        "read as another language (zh): set --src-lang zh, or --force to translate anyway"
    )
    assert ref.admin("stats")["requests"] == 0  # nothing was paid for
    forced = translate(sample_dir / "zh-pud.iob2", tmp_path / "out", ref.base_url, "--force")
    assert forced.returncode == 0, forced.stderr
    assert ref.admin("stats")["requests"] > 0


def test_right_source_languages_pass_the_check(shared_data):
    from parallelner.filters.source_language import check_source
    from parallelner.readers import ReadOptions, read_samples

    multi = shared_data / "uner-pud-multi"
    for lang in ("de", "pt", "ru", "sv"):
        verdict = check_source(read_samples([multi / f"{lang}_pud.iob2"], lang), lang)
        assert not verdict.wrong and verdict.judged >= 190, verdict
        assert check_source(read_samples([multi / f"{lang}_pud.iob2"], lang), "zh").wrong
    ewt = sorted((shared_data / "uner-en-ewt").glob("*.iob2"))[0]
    assert not check_source(
        read_samples([ewt], "en", options=ReadOptions(lenient_tags=True)), "en"
    ).wrong


def translate_both_ways(out, ref, sample_dir) -> None:
    """The bundled sample EN->ZH and ZH->EN into ``out``, through the CLI."""
    for src, tgt in (("en", "zh"), ("zh", "en")):
        args = ["translate", str(sample_dir / f"{src}-pud.iob2"), f"--src-lang={src}"]
        args += [f"--tgt-lang={tgt}", f"--out={out}", f"--base-url={ref.base_url}"]
        assert cli(*args, "--model=reference").returncode == 0


def test_thresholds_can_differ_per_language_pair(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    translate_both_ways(out, ref, sample_dir)
    before = json.loads((out / "report.json").read_text())["by_pair"]
    # No copying allowed at all for ZH->EN only: every zh-en pair fails, en-zh is untouched.
    r = cli("filter", str(out), "--threshold", "zh-en:untranslated_overlap=-1")
    assert r.returncode == 0, r.stderr
    after = json.loads((out / "report.json").read_text())
    assert after["by_pair"]["en-zh"] == before["en-zh"]
    assert after["by_pair"]["zh-en"]["passed"] == 0
    assert after["filters"]["settings"]["by_pair"] == {"zh-en": {"untranslated_overlap": -1.0}}
    bad = cli("filter", str(out), "--threshold", "zh-en:min_lenght_ratio=5")
    assert bad.returncode == 2 and "unknown threshold 'min_lenght_ratio'" in one_line(bad)


def test_each_command_lists_only_its_own_flags():
    filter_help = cli("filter", "--help").stdout
    for absent in ("--workers", "--backend", "--escalate-model", "--max-attempts"):
        assert absent not in filter_help
    assert "--threshold" in filter_help and "for --verify and --round-trip only" in filter_help
    translate_help = cli("translate", "--help").stdout
    assert "--workers" in translate_help and "--force" in translate_help


def test_counts_say_whether_they_are_this_runs_or_the_folders(ref, sample_dir, tmp_path):
    out = tmp_path / "out"
    first = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "50")
    assert first.returncode == 0, first.stderr
    assert "this run (translate): read 50 samples (0 bad records skipped, 0 already done)" in (
        first.stdout
    )
    second = translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "60")
    text = " ".join(second.stdout.split())  # rich wraps long lines
    assert "this run (translate): read 60 samples (0 bad records skipped, 50 already done)" in text
    assert "translated 10 in" in text and "folder totals: 60 candidates" in text
    judged = cli("filter", str(out))
    text = " ".join(judged.stdout.split())
    assert "this run (filter): re-judged 60 candidates in" in text and "0 requests" in text
    report = json.loads((out / "report.json").read_text())
    assert report["counts_are"] == "every candidate in the folder" and report["total"] == 60
    assert [r["command"] for r in report["runs"]] == ["translate", "translate", "filter"]
    assert [r.get("translated") for r in report["runs"]] == [50, 10, 0]
    assert report["run"] == report["runs"][-1]


def test_review_push_says_each_retry_while_label_studio_is_down(ref, sample_dir, tmp_path):
    from conftest import dead_url

    out = tmp_path / "out"
    assert translate(sample_dir / "en-pud.iob2", out, ref.base_url, "--limit", "5").returncode == 0
    url = dead_url().removesuffix("/v1")
    env = {"LABEL_STUDIO_URL": url, "LABEL_STUDIO_API_KEY": "secret-token-1"}
    r = cli("review", "push", str(out), "--project", "p", "--retry-seconds", "6", env=env)
    assert r.returncode == 4
    lines = r.stderr.strip().splitlines()
    retries = [x for x in lines if "; retry " in x]
    assert len(retries) >= 1 and all(
        f"Label Studio at {url} failed (ConnectError)" in x for x in retries
    )
    assert "retry 1 in " in retries[0] and "(gives up after 6 s)" in retries[0]
    assert lines[-1].startswith("error: ") and "unreachable" in lines[-1]
    assert "secret-token-1" not in r.stderr and "Traceback" not in r.stderr


def test_report_is_one_offline_page_with_the_folders_figures(ref, sample_dir, tmp_path):
    import re

    out = tmp_path / "out"
    translate_both_ways(out, ref, sample_dir)
    r = cli("report", str(out))
    assert r.returncode == 0, r.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    # Self-contained: no script, stylesheet, image or font is fetched.
    assert not re.search(r"<(script|link|img|iframe)\b", page)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert not re.search(r"url\((?!#)", page) and "@import" not in page  # only #fragments
    assert page.count("<svg") == 4  # confidence, length, labels, runs
    report = json.loads((out / "report.json").read_text())
    for pair, p in report["by_pair"].items():
        cells = (
            f'<td>{pair}</td><td class="n">{p["total"]:,}</td><td class="n">{p["passed"]:,}</td>'
        )
        assert cells in page
    assert "below 0.9 (review)" in page and "outside the band" in page
    assert "No review yet" in page
    bad = cli("report", str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and "not a run folder" in one_line(bad)
