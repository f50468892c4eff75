"""parallelner: build human-verified bilingual parallel NER corpora with an LLM."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("parallelner")
except PackageNotFoundError:  # running from a checkout that was not installed
    __version__ = "0.0.0+unknown"
