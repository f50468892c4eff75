"""Prefect flows and deployments over the parallelner library.

Task results are persisted as JSON, never pickled: a pickle runs code when it is loaded, and
a results folder is not a place anyone audits. Set before Prefect reads its settings.

A flow run without PREFECT_API_URL starts Prefect's temporary server, which creates its SQLite
database the first time: 20 s (Prefect's default wait) is not enough on a slow 2-core machine
(`make run` in a fresh clone failed once so), so it is given 120 s unless set.

No telemetry unless asked for (`DO_NOT_TRACK=0`, `PREFECT_SERVER_ANALYTICS_ENABLED=true`):
GPU clusters are often air-gapped, and there Prefect's temporary server logged "ERROR ... Failed
to send telemetry" at every run started without `make` (which sets both); its SDK sends usage
events from a thread as well.
"""

import os

os.environ.setdefault("PREFECT_RESULTS_DEFAULT_SERIALIZER", "json")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
