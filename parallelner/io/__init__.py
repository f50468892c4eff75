"""Files: atomic writes, locks, checksums, open-file limits, where a corpus is published."""
