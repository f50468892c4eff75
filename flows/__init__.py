"""Prefect flows and deployments over the parallelner library.

Task results are persisted as JSON, never pickled: a pickle runs code when it is loaded, and
a results folder is not a place anyone audits. Set before Prefect reads its settings.
"""

import os

os.environ.setdefault("PREFECT_RESULTS_DEFAULT_SERIALIZER", "json")
