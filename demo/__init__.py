"""Demo data from the seed page (the Defour article, its poll, 25 headlines, demo accounts) and
the demo news site of `make run` (site.py)."""
