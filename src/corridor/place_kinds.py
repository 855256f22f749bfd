"""The vocabulary of places: what a place may be and how precisely it is located.

Kept apart from :mod:`corridor.places` (which needs numpy, Arrow and shapely) so that the
command line can name the kinds in its help without loading those.
"""

from __future__ import annotations

#: Kinds a place may have.
KINDS = (
    "port", "berth", "anchorage", "rail_crossing", "rail_terminal", "depot", "area", "settlement",
)
#: How precisely a place's coordinates locate it.
PRECISIONS = ("facility", "settlement", "approximate")
