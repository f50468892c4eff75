"""Text: Unicode scripts, transliteration, tags, tokens, detokenizing, chrF, assignment."""
