"""One entity, one rendering: the glossary of required target forms, and how consistently a
run renders the entities that repeat across its pairs."""

#: The share of an entity's pairs its most frequent rendering needs to be clear (``glossary
#: build`` proposes it as an entry; a 1:1 split proposes nothing). Here, light: the CLI's
#: parser names it.
MIN_SHARE = 0.6
