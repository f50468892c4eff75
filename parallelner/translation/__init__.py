"""Translation: prompts, the reply contract, projection, recovery, the sample job."""
