"""Room for a run's sockets under the process's limit on open files (``ulimit -n``)."""

from __future__ import annotations

import resource

from parallelner.errors import ConfigError

# Files a run opens beside its connections: inputs, parts, the cache, pipes, the event loop's.
FILES_BESIDE_CONNECTIONS = 256


def allow_open_files(connections: int, pools: int = 1) -> None:
    """Raise this process's soft limit on open files (``ulimit -n``, often 1,024) so that the
    sockets of ``pools`` pools of ``connections`` fit beside the run's files, as far as the hard
    limit allows. ConfigError when not even one pool's fit: past the limit every new connection
    fails ("Too many open files"), and the run would limp on retries instead of saying why."""
    need = connections + FILES_BESIDE_CONNECTIONS  # the requests in flight
    want = connections * pools + FILES_BESIDE_CONNECTIONS  # and every pool's idle ones
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    if hard != resource.RLIM_INFINITY and hard < need:
        raise ConfigError(
            f"--concurrency: {connections} requests in flight need {need} open files, and this "
            f"process may open at most {hard} (ulimit -Hn): lower --concurrency (or use more "
            "--workers: each opens its own share) or raise the limit"
        )
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard)
    )
