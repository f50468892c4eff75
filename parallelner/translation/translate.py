"""Translate + project: one joint LLM call per sample, repaired with feedback, as the seed does.

Round 1 asks for the translation and each entity's surface form in it. An entity whose form is
not in the translation is first recovered (``recovery``: folded, asked, located); if one is
still missing, round 2 asks to re-state the surface forms (span re-phrasing), round 3 and later
to re-phrase the sentence; a reply that is not JSON of the contract gets a format reminder.
After ``max_attempts`` rounds, ``escalate_model`` (if set) gets the same rounds from scratch.
Every round is counted in ``attempts``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

from parallelner.bounded import in_completion_order
from parallelner.config import Settings
from parallelner.glossary.entries import Glossary
from parallelner.llm.backend import ChatBackend, LLMCallFailed
from parallelner.llm.prompts import Message, PromptSet, lang_name, load_prompts, one_line
from parallelner.llm.reply import MalformedReply, Reply, json_object, parse_reply
from parallelner.reasons import EMPTY, LLM_ERROR, MALFORMED_REPLY
from parallelner.records import Candidate, RecordError, Sample, Span
from parallelner.text.projection import (
    ENTITY_MISSING,
    ENTITY_NOT_FOUND,
    locate_entities,
    projection_method,
)
from parallelner.translation.recovery import find_free, locate


@dataclass(frozen=True)
class TranslateSettings:
    """What the translate stage needs to know, and nothing else (its defaults are the run
    settings' own)."""

    src_lang: str
    tgt_lang: str
    model: str
    escalate_model: str | None = None
    max_attempts: int = Settings.max_attempts
    recover: bool = Settings.recover  # recovery before repair rounds (translation.recovery)
    concurrency: int = Settings.concurrency
    temperature: float = Settings.temperature
    max_tokens: int = Settings.max_tokens
    glossary: Glossary | None = None  # required renderings, asked for in the first request


@dataclass
class _Outcome:
    """The best a sample got so far: what the last reply said and what is wrong with it."""

    reply: Reply | None
    located: list[tuple[int, int] | str]
    reasons: tuple[str, ...]
    raw: str
    model: str
    methods: list[str | None] | None = None  # how each placed entity was found (recovery)


def request_params(prompts: PromptSet, cfg: TranslateSettings) -> dict[str, object]:
    """The decoding parameters of every request of a run (one object, serialised once)."""
    return {
        "temperature": cfg.temperature,
        "max_tokens": cfg.max_tokens,
        "response_format": prompts.response_format,
    }


class _SampleJob:
    """The rounds of requests for one sample, with its token and attempt counts."""

    def __init__(
        self,
        sample: Sample,
        client: ChatBackend,
        prompts: PromptSet,
        cfg: TranslateSettings,
        params: dict[str, object] | None = None,
    ):
        self.sample, self.client, self.prompts, self.cfg = sample, client, prompts, cfg
        self.attempts = self.prompt_tokens = self.completion_tokens = 0
        self.asks = 0  # span questions of recovery (not rounds: they do not lower confidence)
        self.params = params if params is not None else request_params(prompts, cfg)
        self.required = _required(sample, cfg)
        self.version = prompts.version_for(self.required)  # in the cache key and the candidate

    async def run(self) -> Candidate:
        first = self.prompts.messages(self.sample, self.cfg.tgt_lang, self.required)
        outcome: _Outcome | None = None
        try:
            for model in filter(None, (self.cfg.model, self.cfg.escalate_model)):
                outcome = await self._rounds(model, list(first))
                if not outcome.reasons:
                    break
        except LLMCallFailed as e:
            return self._candidate(None, (LLM_ERROR,), str(e), self.cfg.model, failed=True)
        assert outcome is not None
        return self._candidate(outcome, outcome.reasons, outcome.raw, outcome.model)

    async def _rounds(self, model: str, messages: list[Message]) -> _Outcome:
        outcome = _Outcome(None, [], (MALFORMED_REPLY,), "", model)
        for round_no in range(self.cfg.max_attempts):
            self.attempts += 1
            reply = await self.client.complete(
                model, messages, prompt_version=self.version, params=self.params
            )
            self.prompt_tokens += reply.prompt_tokens
            self.completion_tokens += reply.completion_tokens
            outcome, feedback = self._judge(reply.content, model, round_no)
            if feedback is not None and outcome.methods is not None and self.cfg.recover:
                outcome = await self._recover(outcome, messages, model)
                feedback = self._feedback(outcome, round_no)
            if feedback is None:
                return outcome
            messages = [
                *messages,
                {"role": "assistant", "content": reply.content},
                {"role": "user", "content": feedback},
            ]
        return outcome

    def _judge(self, content: str, model: str, round_no: int) -> tuple[_Outcome, str | None]:
        """The outcome of one reply and the feedback for the next round (None: done)."""
        n = len(self.sample.entities)
        try:
            reply = parse_reply(content, n)
        except MalformedReply as e:
            outcome = _Outcome(None, [], (MALFORMED_REPLY,), content, model)
            return outcome, self.prompts.repair_format.format(error=e)
        if not reply.translation.strip():
            outcome = _Outcome(reply, [], (EMPTY,), content, model)
            return outcome, self.prompts.repair_format.format(error="the translation is empty")
        located = locate_entities(reply.translation, list(reply.surfaces))
        methods = [
            projection_method(reply.translation, surface, where)
            if isinstance(where, tuple)
            else None
            for surface, where in zip(reply.surfaces, located, strict=True)
        ]
        outcome = _Outcome(reply, located, _reasons(located), content, model, methods)
        return outcome, self._feedback(outcome, round_no)

    def _feedback(self, outcome: _Outcome, round_no: int) -> str | None:
        """The repair prompt for what is still wrong with ``outcome`` (None: nothing)."""
        if not outcome.reasons:
            return None
        assert outcome.reply is not None
        template = self.prompts.repair_span if round_no == 0 else self.prompts.repair_sentence
        return template.format(
            problems=self._problems(outcome.reply, outcome.located),
            tgt_name=lang_name(self.cfg.tgt_lang),
        )

    async def _recover(self, outcome: _Outcome, messages: list[Message], model: str) -> _Outcome:
        """``outcome`` with the entities whose form is not in the translation found, where
        recovery can: asked in this conversation, else located here (``recovery``)."""
        reply = outcome.reply
        assert reply is not None and outcome.methods is not None
        translation = reply.translation
        located, methods = list(outcome.located), list(outcome.methods)
        taken = [w for w in located if isinstance(w, tuple)]
        asked = [*messages, {"role": "assistant", "content": outcome.raw}]
        for i, where in enumerate(located):
            if where not in (ENTITY_NOT_FOUND, ENTITY_MISSING):
                continue
            span, method = None, None
            if self.prompts.ask_span:
                answer = await self._ask(asked, model, translation, self.sample.entities[i])
                span = find_free(translation, answer, taken) if answer else None
                method = "asked"
            if span is None:
                entity = self.sample.entities[i]
                span, method = locate(translation, entity.text, taken, entity.label), "located"
            if span is not None:
                located[i], methods[i] = span, method
                taken.append(span)
        return _Outcome(reply, located, _reasons(located), outcome.raw, model, methods)

    async def _ask(
        self, messages: list[Message], model: str, translation: str, entity: Span
    ) -> str | None:
        """The model's answer to "which characters of your translation render ENTITY?"."""
        question = self.prompts.ask_span.format(
            translation=one_line(translation),
            src_name=lang_name(self.cfg.src_lang),
            tgt_name=lang_name(self.cfg.tgt_lang),
            src=one_line(entity.text),
            label=entity.label,
        )
        try:
            reply = await self.client.complete(
                model,
                [*messages, {"role": "user", "content": question}],
                prompt_version=self.prompts.ask_version,
                params=self.prompts.ask_params,
            )
        except LLMCallFailed:
            return None  # no answer: the entity goes on to the next step
        self.asks += 1
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        try:
            text = json_object(reply.content).get("text")
        except MalformedReply:
            return None
        return text if isinstance(text, str) else None

    def _problems(self, reply: Reply, located: list[tuple[int, int] | str]) -> str:
        lines = []
        for i, (span, where) in enumerate(zip(self.sample.entities, located, strict=True)):
            if isinstance(where, str):
                template = {
                    ENTITY_MISSING: self.prompts.problem_missing,
                    ENTITY_NOT_FOUND: self.prompts.problem_not_found,
                }.get(where, self.prompts.problem_overlap)
                lines.append(
                    template.format(
                        id=i + 1,
                        label=span.label,
                        src=one_line(span.text),
                        tgt=reply.surfaces[i] and one_line(reply.surfaces[i]),
                    )
                )
        return "\n".join(lines)

    def _candidate(
        self,
        outcome: _Outcome | None,
        reasons: tuple[str, ...],
        raw: str,
        model: str,
        *,
        failed: bool = False,
    ) -> Candidate:
        s = self.sample
        translation = outcome.reply.translation if outcome and outcome.reply else ""
        located = (
            outcome.located if outcome and outcome.located else [ENTITY_MISSING] * len(s.entities)
        )
        tgt = tuple(
            Span(where[0], where[1], span.label, translation[where[0] : where[1]])
            if isinstance(where, tuple)
            else None
            for span, where in zip(s.entities, located, strict=True)
        )
        methods = outcome.methods if outcome and outcome.methods else [None] * len(s.entities)
        projection = tuple(m if t is not None else None for m, t in zip(methods, tgt, strict=True))
        return Candidate(
            id=Candidate.make_id(s.id, s.lang, self.cfg.tgt_lang),
            source_id=s.id,
            src_lang=s.lang,
            tgt_lang=self.cfg.tgt_lang,
            src_text=s.text,
            tgt_text=translation,
            src_entities=s.entities,
            tgt_entities=tgt,
            status="failed" if failed else ("rejected" if reasons else "passed"),
            reasons=reasons,
            attempts=self.attempts,
            model=model,
            prompt_version=self.version,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            raw_reply=raw,
            projection=projection,
        )


def _required(sample: Sample, cfg: TranslateSettings) -> tuple[tuple[int, str], ...]:
    """(entity index, target form) of the sample's entities the glossary has an entry for."""
    if cfg.glossary is None or not len(cfg.glossary):
        return ()
    pair = f"{sample.lang}-{cfg.tgt_lang}"
    entries = cfg.glossary.for_entities(pair, sample.entities)
    return tuple((i, e.target) for i, e in enumerate(entries) if e is not None)


def _reasons(located: list[tuple[int, int] | str]) -> tuple[str, ...]:
    return tuple(sorted({x for x in located if isinstance(x, str)}))


async def translate_sample(
    sample: Sample,
    client: ChatBackend,
    prompts: PromptSet,
    cfg: TranslateSettings,
    params: dict[str, object] | None = None,
) -> Candidate:
    """The candidate for one sample (never raises for a bad reply or a failed call);
    ``params``: the run's ``request_params``, shared by its samples."""
    return await _SampleJob(sample, client, prompts, cfg, params).run()


def translate(
    samples: Iterable[Sample],
    client: ChatBackend,
    prompts: PromptSet,
    cfg: TranslateSettings,
    then: Callable[[Candidate], Awaitable[Candidate]] | None = None,
) -> AsyncIterator[Candidate]:
    """Candidates for ``samples``, in completion order, with ``cfg.concurrency`` samples in
    flight; ``then`` (the judge's LLM checks) runs in the sample's own slot, so its calls go out
    beside the other samples' instead of one at a time behind the stream.

    Samples are pulled from the iterable only as slots free up, so memory stays flat however
    long the corpus is.
    """
    params = request_params(prompts, cfg)

    async def one(sample: Sample) -> Candidate:
        candidate = await translate_sample(sample, client, prompts, cfg, params)
        return candidate if then is None else await then(candidate)

    return in_completion_order(samples, one, cfg.concurrency)


async def back_translate(c: Candidate, client: ChatBackend, cfg: TranslateSettings) -> Candidate:
    """``c``'s target translated back into its source language with its projected entities
    (the joint prompt, so the client's cache and the round-trip check share the call)."""
    spans = tuple(s for s in c.tgt_entities if s is not None)
    try:
        sample = Sample(c.source_id, c.tgt_lang, c.tgt_text, spans)
    except RecordError:
        sample = Sample(c.source_id, c.tgt_lang, c.tgt_text, ())
    back_cfg = replace(cfg, src_lang=c.tgt_lang, tgt_lang=c.src_lang, escalate_model=None)
    return await translate_sample(sample, client, load_prompts(), back_cfg)
