"""One default per setting: the settings dataclasses hold every default, and the CLI, a TOML
file and the flows' configuration give the same values when they say nothing."""

from __future__ import annotations

import re
from dataclasses import asdict, fields

from flows.config import CorpusConfig, EndpointConfig, ReviewConfig
from parallelner.cli import _NOT_FLAGS, _load, _parser
from parallelner.config import FilterSettings, RoutingSettings, Settings, load_settings
from parallelner.translation.translate import TranslateSettings

#: Settings the flows do not take from their [endpoint] table, and why.
FLOWS_ELSEWHERE = {
    "api_key": "the environment only",
    "filters": "the config's [filters] table",
    "read": "each direction's format, lenient_tags, label_names, columns",
    "partition": "the config's top-level partition",
    "glossary": "the config's top-level glossary",
    "retranslate": "the config's top-level retranslate",
    "on_bad_record": "the config's top-level on_bad_record",
    "workers": "each shard task is one process; parallel_shards sets how many",
    "rows_per_part": "parts follow the shards",
}


def _translate_args(tmp_path, *flags: str):
    argv = ["translate", "x.iob2", "--src-lang", "en", "--tgt-lang", "zh", "--out", str(tmp_path)]
    return _parser().parse_args([*argv, *flags])


def _public(settings: Settings) -> dict[str, object]:
    return settings.public()


def _translate_parser():
    parser = _parser()
    return next(a for a in parser._actions if a.dest == "command").choices["translate"]


def test_the_cli_without_flags_gives_the_dataclass_defaults(tmp_path, monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("PARALLELNER_"):
            monkeypatch.delenv(name)
    assert _public(_load(_translate_args(tmp_path))) == _public(Settings())


def test_every_flag_defaults_to_unset_so_it_never_hides_a_config_value(tmp_path):
    args = _translate_args(tmp_path)
    for f in fields(Settings):
        if f.name not in _NOT_FLAGS:
            assert hasattr(args, f.name), f"translate has no flag for the setting {f.name}"
            assert getattr(args, f.name) is None, f.name
    for f in fields(FilterSettings):
        if f.name != "by_pair":  # those without a flag of their own: --threshold, the config
            assert getattr(args, f.name, None) is None, f.name


def test_a_help_text_names_the_dataclass_default():
    helps = {
        flag: " ".join((a.help or "").split())
        for a in _translate_parser()._actions
        for flag in a.option_strings
    }
    named = {
        "--base-url": Settings.base_urls[0],
        "--backend": Settings.backend,
        "--concurrency": Settings.concurrency,
        "--structured-output": Settings.structured_output,
        "--timeout": f"{Settings.timeout:g}",
        "--max-retries": Settings.max_retries,
        "--max-attempts": Settings.max_attempts,
        "--rows-per-part": Settings.rows_per_part,
        "--on-bad-record": Settings.on_bad_record,
        "--untranslated-overlap": FilterSettings.untranslated_overlap,
    }
    for flag, default in named.items():
        assert re.search(rf"(\(|default ){re.escape(str(default))}\)", helps[flag]), (
            flag,
            helps[flag],
        )


def test_an_empty_toml_file_gives_the_dataclass_defaults(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text("[parallelner]\n", encoding="utf-8")
    assert _public(load_settings(path, env={})) == _public(Settings())


def test_the_flows_default_to_the_same_settings(monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith("PARALLELNER_"):
            monkeypatch.delenv(name)
    assert _public(CorpusConfig().settings()) == _public(Settings())
    endpoint = EndpointConfig()
    for name, value in endpoint.settings_values().items():
        default = getattr(Settings(), name)
        assert value == (list(default) if isinstance(default, tuple) else default), name
    review, routing = ReviewConfig(), RoutingSettings()
    assert (review.policy, review.low_confidence, review.audit_rate, review.seed) == tuple(
        asdict(routing).values()
    )


def test_every_setting_reaches_the_flows_or_says_where_it_comes_from():
    taken = set(EndpointConfig().settings_values())
    for f in fields(Settings):
        assert f.name in taken or f.name in FLOWS_ELSEWHERE, f"flows lack the setting {f.name}"
    assert "backend" in taken


def test_the_translate_stage_defaults_are_the_settings_own():
    cfg, settings = TranslateSettings("en", "zh", "m"), Settings()
    for name in ("max_attempts", "recover", "concurrency", "temperature", "max_tokens"):
        assert getattr(cfg, name) == getattr(settings, name), name


def test_the_review_commands_default_to_the_routing_settings(tmp_path):
    args = _parser().parse_args(["review", "push", str(tmp_path), "--project", "p"])
    routing = RoutingSettings()
    got = (args.routing, args.low_confidence, args.audit_rate, args.seed)
    assert got == tuple(asdict(routing).values())
