"""Translation: the sample job (joint translation with repair rounds, escalation,
back-translation) and recovery of an entity the reply's form misses."""
