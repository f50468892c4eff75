"""Where a corpus is published: a local folder, or an object store URI.

``s3://bucket/prefix`` (with ``?endpoint_override=host:port&scheme=http`` for an
S3-compatible server; credentials from the environment, ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, never from the URI) and the other URIs ``pyarrow.fs`` speaks
(``gs://``, ``hdfs://``); any other scheme through ``fsspec`` when it is installed.

An export to a URI is written to a local staging folder first (a version folder, as locally),
then published: every shard of the new version, then ``manifest.json`` (the switch: an object
store shows a whole object or none), then the card. The old version's objects are deleted after
the new manifest is in place, so a reader who follows the manifest never misses a file; nothing
else under the prefix is touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from parallelner.errors import ConfigError


def is_uri(where: str | Path) -> bool:
    """Whether ``where`` names an object store (``s3://...``), not a local path."""
    text = str(where)
    return "://" in text and not text.startswith("file://")


def public_uri(uri: str) -> str:
    """``uri`` without credentials or query (safe to print and to keep in a manifest)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass
class ObjectStore:
    """A folder of an object store: ``fs`` (a pyarrow FileSystem) and the ``root`` path in it."""

    fs: object
    root: str
    uri: str

    @classmethod
    def open(cls, uri: str) -> ObjectStore:
        import pyarrow.fs as pafs

        os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # air-gapped: never probe
        parts = urlsplit(uri)
        if parts.username or parts.password:
            raise ConfigError(
                f"{public_uri(uri)}: credentials do not go in the URI; set AWS_ACCESS_KEY_ID "
                "and AWS_SECRET_ACCESS_KEY (or the store's own variables)"
            )
        try:
            fs, root = pafs.FileSystem.from_uri(uri)
        except ValueError as e:  # pyarrow's ArrowInvalid: a bad URI or a scheme it lacks
            if "Unrecognized filesystem type" not in str(e):
                raise ConfigError(f"{public_uri(uri)}: {e}") from None
            fs, root = _fsspec(uri)
        return cls(fs, root.rstrip("/"), uri)

    def _path(self, relative: str) -> str:
        return f"{self.root}/{relative}" if relative else self.root

    def publish(
        self,
        folder: Path,
        stale: set[str] = frozenset(),  # type: ignore[assignment]
        last: tuple[str, ...] = ("manifest.json", "README.md"),
        hidden: tuple[str, ...] = (".parallelner-version",),
    ) -> list[str]:
        """Upload every file under ``folder`` (relative names kept): the others first, then
        ``last`` in its order; then delete ``stale`` (the old version's files, named by the
        caller: never a file it did not write). Of the hidden files only ``hidden`` go (the
        export's version mark). The relative names uploaded."""
        import pyarrow.fs as pafs

        local = pafs.LocalFileSystem()
        names = sorted(
            str(p.relative_to(folder)).replace(os.sep, "/")
            for p in folder.rglob("*")
            if p.is_file() and (not p.name.startswith(".") or p.name in hidden)
        )
        order = [n for n in names if n not in last] + [n for n in last if n in names]
        for name in order:
            target = self._path(name)
            self.fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
            pafs.copy_files(
                str(folder / name),
                target,
                source_filesystem=local,
                destination_filesystem=self.fs,
            )
        for name in sorted(stale - set(order)):
            self.fs.delete_file(self._path(name))
        return order

    def files(self) -> list[str]:
        """Relative names of the files under the root."""
        import pyarrow.fs as pafs

        selector = pafs.FileSelector(self.root, allow_not_found=True, recursive=True)
        return sorted(
            info.path[len(self.root) + 1 :]
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File
        )

    def read_bytes(self, relative: str) -> bytes:
        with self.fs.open_input_stream(self._path(relative)) as stream:
            return stream.read()

    def read_json(self, relative: str) -> dict | None:
        """``relative`` as a JSON object; None when it is not there (or not an object)."""
        import json

        import pyarrow.fs as pafs

        if self.fs.get_file_info(self._path(relative)).type != pafs.FileType.File:
            return None
        try:
            found = json.loads(self.read_bytes(relative))
        except ValueError:
            raise ConfigError(
                f"{public_uri(self.uri)}/{relative}: not JSON: this prefix holds something "
                "else than a parallelner corpus; export to another one"
            ) from None
        return found if isinstance(found, dict) else None


def _fsspec(uri: str):
    """A pyarrow view of an fsspec filesystem, for the schemes pyarrow does not speak."""
    try:
        import fsspec
        from pyarrow.fs import FSSpecHandler, PyFileSystem
    except ImportError:
        raise ConfigError(
            f"{public_uri(uri)}: unknown storage scheme (pyarrow.fs does not speak it and "
            "fsspec is not installed)"
        ) from None
    fs, root = fsspec.core.url_to_fs(uri)
    return PyFileSystem(FSSpecHandler(fs)), root
