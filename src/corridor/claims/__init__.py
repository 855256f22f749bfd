"""Claims: structured, sourced assertions extracted from report texts.

:func:`corridor.claims.extract.extract_claims` turns a report's text into
:class:`~corridor.claims.extract.Claim` objects; :mod:`corridor.claims.store` saves,
lists, corrects and matches them against corridors.
"""
