"""In-process vLLM (``--backend vllm``, extra ``vllm``, GPU only): the same ``complete`` contract
as ChatClient, with guided JSON decoding to the reply schema.

Kept thin on purpose: it cannot run on a machine without a GPU, so no test covers it here.
The response cache works the same way, so a rerun never regenerates a finished sample.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from parallelner.llm.backend import ClientStats, LLMCallFailed
from parallelner.llm.cache import ChatReply, Messages, ResponseCache
from parallelner.llm.wire import request_key

try:  # import guard: vllm is an optional, GPU-only extra
    import vllm
except ImportError:  # pragma: no cover - depends on the machine
    vllm = None


class VLLMEngineClient:
    """Chat completions from a vllm.LLM in this process."""

    def __init__(self, model: str, *, cache: ResponseCache | None = None, **engine_args: object):
        if vllm is None:
            raise RuntimeError(
                "--backend vllm needs the vllm extra on a GPU machine: "
                "pip install 'parallelner[vllm]'"
            )
        self.llm = vllm.LLM(model=model, **engine_args)
        self.model = model
        self.cache = cache
        self.stats = ClientStats()
        self.max_batch = 256
        self._queue: list[tuple[Messages, object, asyncio.Future[ChatReply]]] = []
        self._worker: asyncio.Task[None] | None = None

    def _sampling(self, params: Mapping[str, object]) -> object:
        fmt = params.get("response_format") or {}
        schema = fmt.get("json_schema", {}).get("schema") if isinstance(fmt, dict) else None
        guided = {}
        if schema is not None:
            if hasattr(vllm.sampling_params, "StructuredOutputsParams"):
                guided["structured_outputs"] = vllm.sampling_params.StructuredOutputsParams(
                    json=schema
                )
            else:
                guided["guided_decoding"] = vllm.sampling_params.GuidedDecodingParams(json=schema)
        return vllm.SamplingParams(
            temperature=float(params.get("temperature", 0.0)),  # type: ignore[arg-type]
            max_tokens=int(params.get("max_tokens", 2048)),  # type: ignore[arg-type]
            **guided,
        )

    async def complete(
        self, model: str, messages: Messages, *, prompt_version: str, params: Mapping[str, object]
    ) -> ChatReply:
        key = request_key(model, prompt_version, messages, params)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.stats.cache_hits += 1
            return hit
        future: asyncio.Future[ChatReply] = asyncio.get_running_loop().create_future()
        self._queue.append((messages, self._sampling(params), future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        reply = await future
        if self.cache is not None:
            self.cache.put(key, prompt_version, reply)
        return reply

    async def _drain(self) -> None:
        """Generate for everything queued, in batches: the engine is fastest given many at once."""
        while self._queue:
            await asyncio.sleep(0.01)  # let concurrent samples join the batch
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self.stats.requests += len(batch)
            try:
                outs = await asyncio.to_thread(
                    self.llm.chat, [m for m, _, _ in batch], [p for _, p, _ in batch]
                )
            except Exception as e:  # a failed batch fails its samples, not the run
                for _, _, future in batch:
                    future.set_exception(LLMCallFailed(f"vllm: {e}"))
                continue
            for (_, _, future), out in zip(batch, outs, strict=True):
                future.set_result(
                    ChatReply(
                        content=out.outputs[0].text,
                        model=self.model,
                        prompt_tokens=len(out.prompt_token_ids or []),
                        completion_tokens=len(out.outputs[0].token_ids),
                    )
                )

    async def aclose(self) -> None:
        return None
