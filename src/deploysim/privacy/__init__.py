"""Privacy: detect private data and replace it with consistent pseudonyms (issue: privacy)."""
