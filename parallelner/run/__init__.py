"""Running a job over a folder: its steps, worker pool, partitions, shards, progress,
candidate store."""
