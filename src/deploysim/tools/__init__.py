"""Tools offered to the candidate, the router and its backends (issue: replay)."""
