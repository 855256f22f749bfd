"""Geography of the simulator: real ports of the Sea of Japan and sea lanes between them.

Port names, countries and UN/LOCODEs are those of the NGA World Port Index (Pub. 150, public
domain; the project materials' copy of WPI.csv), except Dunai, which the WPI does not list: its
position is the settlement of Dunay, Primorsky Krai (Wikipedia, as cited in the case file).
The *berth* coordinates are the WPI point moved to the nearest water (at least 250 m from the
shore of the bundled Natural Earth 1:10m land) from which a straight line reaches the
approach waypoint without crossing land; the shift is recorded in ``berth_shift_m``. That
way simulated ships stop on water and never sail across land (``tests/test_sim.py`` checks
every lane against :mod:`corridor.shore`).

Lanes: berth -> approach waypoint (10-20 km off the coast) -> open sea. Northern ports meet
at the hub ``HUB_N`` (about 80 nm from any shore), southern ports at ``HUB_S`` (about 165 nm);
the two hubs are joined. The corridor pair (Najin, Dunai) has a direct crossing between
its approach waypoints, the route of the 2023 shuttle. Meetings, loitering and long dark
stretches of the ``mixed`` scenario happen near a hub, far from ports and shore.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SimPort:
    """A real port as the simulator uses it (degrees)."""

    slug: str
    name: str
    country: str  # ISO 3166 alpha-2
    locode: str | None
    wpi_lat: float
    wpi_lon: float
    berth_lat: float
    berth_lon: float
    berth_shift_m: float
    approach: tuple[float, float]
    region: str  # "north" (hub N) or "south" (hub S)

    @property
    def place_id(self) -> str:
        """The id under which the simulator registers the port in ``places``."""
        return f"sim-{self.slug}"


HUB_N = (41.3, 133.0)
HUB_S = (40.0, 134.0)

PORTS: dict[str, SimPort] = {
    p.slug: p
    for p in (
        SimPort("najin", "Najin", "KP", "KPRJN", 42.2333, 130.3000, 42.2113, 130.3378, 3959,
                (42.10, 130.55), "north"),
        SimPort("dunai", "Dunai", "RU", None, 42.88028, 132.3375, 42.8753, 132.3658, 2376,
                (42.70, 132.30), "north"),
        SimPort("vladivostok", "Vladivostok", "RU", "RUVVO", 43.1089, 131.8883, 43.0929, 131.8815,
                1862, (42.98, 131.95), "north"),
        SimPort("nakhodka", "Nakhodka", "RU", "RUNJK", 42.8000, 132.8833, 42.8000, 132.9008, 1432,
                (42.60, 132.90), "north"),
        SimPort("vostochnyy", "Vostochnyy", "RU", "RUVYP", 42.7500, 133.0833, 42.6860, 133.0833,
                7116, (42.55, 133.10), "north"),
        SimPort("zarubino", "Zarubino", "RU", "RUZAR", 42.6333, 131.0833, 42.6333, 131.0833, 0,
                (42.50, 131.10), "north"),
        SimPort("wonsan", "Wonsan", "KP", "KPWON", 39.1667, 127.4500, 39.1837, 127.4446, 1947,
                (39.30, 127.80), "south"),
        SimPort("busan", "Busan", "KR", "KRPUS", 35.1000, 129.0333, 35.0960, 129.0401, 758,
                (35.00, 129.30), "south"),
        SimPort("niigata", "Niigata Ko", "JP", "JPKIJ", 37.9167, 139.0500, 37.9337, 139.0325, 2438,
                (38.30, 138.60), "south"),
    )
}

#: the two ends of the ``corridor`` scenario (the 2023 Rajin -> Dunai shuttle)
CORRIDOR_PORTS = ("najin", "dunai")
#: port pairs joined by a direct crossing between their approach waypoints
DIRECT = {frozenset(CORRIDOR_PORTS)}


@dataclass(frozen=True)
class Geography:
    """The ports a simulation sails between and how: ``lanes`` (port pair → waypoints from
    approach to approach, when not the built-in hub lanes), ``corridor_ports`` (where the
    ``corridor`` scenario's ships start) and ``legs`` (from, to, share of crossings with AIS
    off; when empty, ships shuttle between the two ``corridor_ports``)."""

    ports: dict[str, SimPort]
    corridor_ports: tuple[str, ...]
    direct: frozenset = frozenset()
    lanes: dict[tuple[str, str], tuple[tuple[float, float], ...]] | None = None
    legs: tuple[tuple[str, str, float | None], ...] = ()
    source: str = "built-in Sea of Japan geography"

    def lane(self, a: str, b: str) -> tuple[list[tuple[float, float]], list[int]]:
        """Waypoints from berth ``a`` to berth ``b`` and the indices of the hubs among them."""
        if self.lanes is None:
            return lane(a, b)
        pa_, pb = self.ports[a], self.ports[b]
        middle = list(self.lanes.get((a, b)) or reversed(self.lanes.get((b, a)) or ()))
        wps = [(pa_.berth_lat, pa_.berth_lon), pa_.approach, *middle, pb.approach,
               (pb.berth_lat, pb.berth_lon)]
        return wps, []

    def next_legs(self, port: str) -> list[tuple[str, float | None]]:
        """(destination, dark share) of the legs leaving ``port``, else of the legs into it
        sailed back."""
        out = [(b, d) for a, b, d in self.legs if a == port]
        return out or [(a, d) for a, b, d in self.legs if b == port]


def hub_of(region: str) -> tuple[float, float]:
    """The open-sea hub of a region."""
    return HUB_N if region == "north" else HUB_S


def lane(a: str, b: str) -> tuple[list[tuple[float, float]], list[int]]:
    """Waypoints from berth ``a`` to berth ``b`` and the indices of the hubs among them.

    >>> wps, hubs = lane("najin", "busan")
    >>> len(wps), hubs
    (6, [2, 3])
    >>> lane("najin", "dunai")[1]
    []
    """
    pa_, pb = PORTS[a], PORTS[b]
    start = [(pa_.berth_lat, pa_.berth_lon), pa_.approach]
    end = [pb.approach, (pb.berth_lat, pb.berth_lon)]
    if frozenset((a, b)) in DIRECT:
        middle: list[tuple[float, float]] = []
    elif pa_.region == pb.region:
        middle = [hub_of(pa_.region)]
    else:
        middle = [hub_of(pa_.region), hub_of(pb.region)]
    wps = start + middle + end
    return wps, list(range(2, 2 + len(middle)))


#: The built-in geography (the ports and lanes above).
SEA_OF_JAPAN = Geography(PORTS, CORRIDOR_PORTS, frozenset(DIRECT))
