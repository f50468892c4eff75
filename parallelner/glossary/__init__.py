"""One entity, one rendering: the glossary of required target forms, and how consistently a
run renders the entities that repeat across its pairs."""
