"""The user's journey: mistakes caught before paying, each command's own flags, counts that
say what they count."""

from __future__ import annotations

import json

from test_chaos import one_line
from test_cli import cli, translate


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
    from parallelner.readers import read_samples

    multi = shared_data / "uner-pud-multi"
    for lang in ("de", "pt", "ru", "sv"):
        verdict = check_source(read_samples([multi / f"{lang}_pud.iob2"], lang), lang)
        assert not verdict.wrong and verdict.judged >= 190, verdict
        assert check_source(read_samples([multi / f"{lang}_pud.iob2"], lang), "zh").wrong
    ewt = sorted((shared_data / "uner-en-ewt").glob("*.iob2"))[0]
    assert not check_source(read_samples([ewt], "en", strict=False), "en").wrong
