"""A partitioned build on a Prefect work pool: one flow run per partition, then the gather.

    .venv/bin/python -m flows.deploy --config my-corpus.toml --pool gpus --partitions 8

creates (or updates) two deployments on the ``process`` work pool ``--pool`` (created if
missing): ``build-corpus/partition`` and ``gather/gather``, their code taken from this
repository's folder on each worker's machine. It submits one run of ``build-corpus/partition``
per partition (parameter ``partition = "i/N"``), waits, submits again a run that ended
Failed or Crashed (a lost worker: Prefect marks a run Crashed once its heartbeats stop, through
the automation this creates), then runs ``gather/gather`` (review and export).

The endpoint is never a parameter: each worker's environment names its own
(``PARALLELNER_BASE_URL``, default ``http://127.0.0.1:8000/v1``: the node's local vLLM), so no
LLM traffic crosses the network and no address is stored with the runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flows.config import CorpusConfig, EndpointConfig

REPO = Path(__file__).resolve().parent.parent
BUILD = "build-corpus/partition"
GATHER = "gather/gather"
ZOMBIES = "parallelner: a flow run without heartbeat has crashed"
#: Seconds without a heartbeat after which a run is marked Crashed; workers send one every
#: PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (Prefect's default 180 s; set 30 on workers).
SILENCE = 90
TERMINAL_BAD = {"FAILED", "CRASHED", "CANCELLED"}


def pool_parameters(config: CorpusConfig) -> dict:
    """The config as deployment parameters: no endpoint address, no reference endpoint."""
    plain = config.model_copy(deep=True)
    plain.endpoint.base_urls = EndpointConfig().base_urls  # each worker's env overrides it
    plain.endpoint.reference_pairs = ""
    plain.partition = ""
    return {"config": plain.model_dump()}


def ensure_pool(pool: str, say: Callable[[str], None]) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            found = client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
            say(f"created work pool {pool!r} (process)")
            return
        if found.type != "process":
            raise SystemExit(f"work pool {pool!r} is of type {found.type!r}, not 'process'")


def ensure_zombie_automation(silence: int = SILENCE) -> None:
    """Prefect's documented zombie detection: a run whose heartbeats stop for ``silence``
    seconds is marked Crashed (then ``run_partitions`` submits it again)."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    try:
        Automation.read(name=ZOMBIES)
        return
    except ValueError:
        pass
    Automation(
        name=ZOMBIES,
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=silence),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {silence} s: its worker or machine is gone",
            )
        ],
    ).create()


def deploy_to_pool(config: CorpusConfig, pool: str, say: Callable[[str], None]) -> None:
    """The two deployments on ``pool``, code from this repository's folder."""
    from prefect import Flow

    ensure_pool(pool, say)
    ensure_zombie_automation()
    params = pool_parameters(config)
    for entry, name in (("build_corpus", "partition"), ("gather", "gather")):
        flow = Flow.from_source(str(REPO), f"flows/build_corpus.py:{entry}")
        flow.deploy(
            name=name,
            work_pool_name=pool,
            parameters=params,
            tags=["parallelner"],
            print_next_steps=False,
            ignore_warnings=True,  # "deploying to a process pool": that is the design here
        )


def run_partitions(
    config: CorpusConfig,
    count: int,
    attempts: int = 3,
    poll: float = 2.0,
    say: Callable[[str], None] = print,
) -> dict:
    """Submit ``count`` partition runs and wait; a run that ends Failed, Crashed or Cancelled
    is submitted again (``attempts`` runs per partition in all); then the gather. Returns the
    corpus manifest the gather wrote."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    def submit(index: int):
        run = run_deployment(BUILD, parameters={"partition": f"{index}/{count}"}, timeout=0)
        say(f"partition {index}/{count}: submitted flow run {run.name} ({run.id})")
        return run

    runs = {i: submit(i) for i in range(1, count + 1)}
    tries = dict.fromkeys(runs, 1)
    done: set[int] = set()
    last: dict[int, str] = {}
    with get_client(sync_client=True) as client:
        while len(done) < count:
            time.sleep(poll)
            for i, run in runs.items():
                if i in done:
                    continue
                state = client.read_flow_run(run.id).state
                kind = state.type.value if state else "PENDING"
                if kind != last.get(i):
                    say(f"partition {i}/{count}: {run.name} {state.name if state else kind}")
                    last[i] = kind
                if kind == "COMPLETED":
                    done.add(i)
                elif kind in TERMINAL_BAD:
                    if tries[i] >= attempts:
                        raise RuntimeError(
                            f"partition {i}/{count}: {attempts} runs ended {kind.lower()}; "
                            f"last {run.name}: {state.message if state else ''}"
                        )
                    tries[i] += 1
                    say(f"partition {i}/{count}: submitting again ({tries[i]} of {attempts})")
                    runs[i] = submit(i)
                    last.pop(i, None)
        say(f"all {count} partitions finished; gathering")
        gathered = run_deployment(GATHER, timeout=None)
        state = client.read_flow_run(gathered.id).state
    if not state or state.type.value != "COMPLETED":
        message = f": {state.message}" if state and state.message else ""
        raise RuntimeError(f"gather {gathered.name} ended {state.name if state else '?'}{message}")
    target = config.corpus_target
    if isinstance(target, str):
        from parallelner.io.storage import ObjectStore

        return json.loads(ObjectStore.open(target).read_bytes("manifest.json"))
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))
