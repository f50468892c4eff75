"""parallelner: build human-verified bilingual parallel NER corpora with an LLM."""


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata only when asked (importlib.metadata
    costs more than the rest of ``parallelner --help``)."""
    if name != "__version__":
        raise AttributeError(f"module 'parallelner' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("parallelner")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "0.0.0+unknown"
