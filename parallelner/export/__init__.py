"""Export the approved corpus: Parquet shards per language pair, AlignXIE records, a manifest."""
