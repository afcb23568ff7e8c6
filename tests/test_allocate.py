"""allocate.py: the verdeelsleutel (golden jaarplan table) and the participation matrices."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inkoopkracht_xl.allocate import (
    AllocationKey,
    KeyShare,
    allocation_key,
    collaboration_matrix,
    participation_matrix,
)
from inkoopkracht_xl.model import (
    Budget,
    BudgetPost,
    Calendar,
    Municipality,
    Population,
    Settings,
    Subject,
)

PEILDATUM_2023 = date(2023, 1, 1)

# CBS, 1 January 2023, as printed in the jaarplan 2024.
JAARPLAN_POPULATIONS = (
    Population("DE", "Delft", 106086, PEILDATUM_2023, True),
    Population("PN", "Pijnacker-Nootdorp", 57672, PEILDATUM_2023, True),
    Population("WE", "Westland", 114887, PEILDATUM_2023, True),
    Population("ZM", "Zoetermeer", 126998, PEILDATUM_2023, True),
)

# The jaarplan's Begroting 2024: total € 131.035.
JAARPLAN_POSTS = (
    BudgetPost("Personele kosten (vast personeel)", Decimal("120000")),
    BudgetPost("Kennis en ontwikkeling netwerkorganisatie", Decimal("5000")),
    BudgetPost("Abonnementen Mett, online platform", Decimal("3685")),
    BudgetPost("Abonnement VDLC, Uitspraken - aanbestedingen", Decimal("350")),
    BudgetPost("Onvoorzien", Decimal("2000")),
)

# EXAMPLE FIGURE, not CBS: a fifth network member for the "a municipality joins" scenario.
LEIDSCHENDAM_VOORBURG = Population("LV", "Leidschendam-Voorburg", 78000, date(2024, 1, 1), True)


def budget(
    populations=JAARPLAN_POPULATIONS,
    posts=JAARPLAN_POSTS,
    year=2024,
    method="procent",
    rounding="euro",
) -> Budget:
    return Budget(Settings(year, lead="DE", method=method, rounding=rounding), posts, populations)


def table(key: AllocationKey) -> list[tuple[str, str, str]]:
    """The key as (code, percentage, amount) text, the way a reader checks the jaarplan."""
    return [(s.code, str(s.percentage), str(s.amount)) for s in key.shares]


# --- the golden test: jaarplan 2024 ------------------------------------------------------------


def test_jaarplan_2024_procent_reproduces_the_printed_table():
    # Percentages (basis points), quota = 10000 × inhabitants / 405643:
    #   DE 2615.26  PN 1421.74  WE 2832.22  ZM 3130.78    floors 2615+1421+2832+3130 = 9998
    #   2 left -> largest remainders ZM .78, PN .74       => 26,15 / 14,22 / 28,32 / 31,31 %
    # Amounts (whole euros), quota = 131035 × basis points / 10000:
    #   DE 34265.6525  PN 18633.177  WE 37109.112  ZM 41027.0585   floors sum 131034
    #   1 left -> largest remainder DE .6525                => 34.266 / 18.633 / 37.109 / 41.027
    key = allocation_key(budget())

    assert table(key) == [
        ("DE", "26.15", "34266.00"),
        ("PN", "14.22", "18633.00"),
        ("WE", "28.32", "37109.00"),
        ("ZM", "31.31", "41027.00"),
    ]
    assert [s.name for s in key.shares] == [
        "Delft",
        "Pijnacker-Nootdorp",
        "Westland",
        "Zoetermeer",
    ]
    assert key.total == Decimal("131035.00")
    assert key.total_inhabitants == 405643
    assert sum(s.percentage for s in key.shares) == Decimal("100.00")
    assert sum(s.amount for s in key.shares) == Decimal("131035")
    assert (key.year, key.method, key.rounding, key.notes) == (2024, "procent", "euro", ())
    assert key.share("WE") == KeyShare(
        "WE", "Westland", 114887, Decimal("28.32"), Decimal("37109.00")
    )
    assert key.share("LV") is None


def test_jaarplan_2024_exact_by_hand():
    # Amounts, quota = 131035 × inhabitants / 405643:
    #   DE 34268.9976  PN 18629.8063  WE 37111.9877  ZM 41024.2083   floors sum 131032
    #   3 left -> largest remainders DE .9976, WE .9877, PN .8063 (ZM .2083 keeps its floor)
    # Percentages are still the display percentages of the procent method.
    key = allocation_key(budget(method="exact"))

    assert table(key) == [
        ("DE", "26.15", "34269.00"),
        ("PN", "14.22", "18630.00"),
        ("WE", "28.32", "37112.00"),
        ("ZM", "31.31", "41024.00"),
    ]
    assert key.method == "exact"
    assert sum(s.amount for s in key.shares) == Decimal("131035")


def test_total_argument_overrides_the_budget():
    # A whole-euro override: quota = 100 × bp / 10000 = 26.15, 14.22, 28.32, 31.31;
    #   floors 26+14+28+31 = 99, 1 left -> largest remainder WE .32.
    key = allocation_key(budget(), total=Decimal("100"))
    assert table(key) == [
        ("DE", "26.15", "26.00"),
        ("PN", "14.22", "14.00"),
        ("WE", "28.32", "29.00"),
        ("ZM", "31.31", "31.00"),
    ]


# --- a fifth municipality joins the network ----------------------------------------------------

FIVE_MEMBERS = JAARPLAN_POPULATIONS + (LEIDSCHENDAM_VOORBURG,)


def test_fifth_member_joins_procent():
    # Inhabitants 405643 + 78000 (example figure) = 483643.
    # Basis points, quota = 10000 × inhabitants / 483643:
    #   DE 2193.4774  PN 1192.4498  WE 2375.4505  ZM 2625.8625  LV 1612.7598
    #   floors 2193+1192+2375+2625+1612 = 9997, 3 left
    #   -> largest remainders ZM .8625, LV .7598, DE .4774 (WE .4505 and PN .4498 keep floors)
    #   => DE 21,94  PN 11,92  WE 23,75  ZM 26,26  LV 16,13  (sum 100,00)
    # Amounts, quota = 131035 × basis points / 10000:
    #   DE 28749.079  PN 15619.372  WE 31120.8125  ZM 34409.791  LV 21135.9455
    #   floors 28749+15619+31120+34409+21135 = 131032, 3 left
    #   -> largest remainders LV .9455, WE .8125, ZM .791 (PN .372, DE .079 keep floors)
    key = allocation_key(budget(populations=FIVE_MEMBERS, year=2025))

    assert table(key) == [
        ("DE", "21.94", "28749.00"),
        ("PN", "11.92", "15619.00"),
        ("WE", "23.75", "31121.00"),
        ("ZM", "26.26", "34410.00"),
        ("LV", "16.13", "21136.00"),
    ]
    assert key.total_inhabitants == 483643
    assert sum(s.percentage for s in key.shares) == Decimal("100.00")
    assert sum(s.amount for s in key.shares) == Decimal("131035")


def test_fifth_member_joins_exact():
    # Amounts, quota = 131035 × inhabitants / 483643:
    #   DE 28742.2314  PN 15625.2660  WE 31126.7155  ZM 34407.9888  LV 21132.7984
    #   floors 28742+15625+31126+34407+21132 = 131032, 3 left
    #   -> largest remainders ZM .9888, LV .7984, WE .7155 (PN .2660, DE .2314 keep floors)
    key = allocation_key(budget(populations=FIVE_MEMBERS, year=2025, method="exact"))

    assert table(key) == [
        ("DE", "21.94", "28742.00"),
        ("PN", "11.92", "15625.00"),
        ("WE", "23.75", "31127.00"),
        ("ZM", "26.26", "34408.00"),
        ("LV", "16.13", "21133.00"),
    ]
    assert sum(s.amount for s in key.shares) == Decimal("131035")


CENTS_POSTS = (BudgetPost("Personele kosten", Decimal("131035.55")),)


def test_fifth_member_total_with_cents_rounding_cent_procent():
    # 13103555 cents, quota = 13103555 × basis points (above) / 10000:
    #   DE 2874919.967  PN 1561943.756  WE 3112094.3125  ZM 3440993.543  LV 2113603.4215
    #   floors sum 13103552, 3 left -> DE .967, PN .756, ZM .543 (LV .4215, WE .3125 keep floors)
    key = allocation_key(
        budget(populations=FIVE_MEMBERS, posts=CENTS_POSTS, year=2025, rounding="cent")
    )

    assert table(key) == [
        ("DE", "21.94", "28749.20"),
        ("PN", "11.92", "15619.44"),
        ("WE", "23.75", "31120.94"),
        ("ZM", "26.26", "34409.94"),
        ("LV", "16.13", "21136.03"),
    ]
    assert key.rounding == "cent"
    assert key.notes == ()  # cents were asked for: nothing to explain
    assert sum(s.amount for s in key.shares) == Decimal("131035.55")


def test_fifth_member_total_with_cents_rounding_cent_exact():
    # 13103555 cents, quota = 13103555 × inhabitants / 483643:
    #   DE 2874235.2019  PN 1562533.1576  WE 3112684.6109  ZM 3440813.3228  LV 2113288.7068
    #   floors sum 13103553, 2 left -> LV .7068, WE .6109
    key = allocation_key(
        budget(
            populations=FIVE_MEMBERS, posts=CENTS_POSTS, year=2025, method="exact", rounding="cent"
        )
    )

    assert table(key) == [
        ("DE", "21.94", "28742.35"),
        ("PN", "11.92", "15625.33"),
        ("WE", "23.75", "31126.85"),
        ("ZM", "26.26", "34408.13"),
        ("LV", "16.13", "21132.89"),
    ]
    assert sum(s.amount for s in key.shares) == Decimal("131035.55")


def test_total_with_cents_under_rounding_euro_falls_back_to_cents_with_a_note():
    # The jaarplan's four members, € 131.035,55 while Afronding = euro.
    # 13103555 cents, quota = 13103555 × basis points / 10000:
    #   DE 3426579.6325  PN 1863325.521  WE 3710926.776  ZM 4102723.0705
    #   floors sum 13103553, 2 left -> WE .776, DE .6325
    key = allocation_key(budget(posts=CENTS_POSTS))

    assert table(key) == [
        ("DE", "26.15", "34265.80"),
        ("PN", "14.22", "18633.25"),
        ("WE", "28.32", "37109.27"),
        ("ZM", "31.31", "41027.23"),
    ]
    assert key.rounding == "cent"
    assert key.notes == (
        "Het te verdelen totaal € 131.035,55 bevat centen; daarom is op centen verdeeld in "
        "plaats van op hele euro's (Afronding = euro), zodat de bijdragen precies optellen tot "
        "het totaal.",
    )


def test_rounding_cent_on_whole_euros_keeps_cents_as_unit():
    # Same as the jaarplan but in cents: quota = 13103500 × bp / 10000 = 3426565.25,
    # 1863317.70, 3710911.20, 4102705.85 -> floors sum 13103498, 2 left -> ZM .85, PN .70.
    key = allocation_key(budget(rounding="cent"))
    assert [str(s.amount) for s in key.shares] == [
        "34265.65",
        "18633.18",
        "37109.11",
        "41027.06",
    ]
    assert key.rounding == "cent"


def test_members_are_network_populations_in_sheet_order():
    # LV has a population (it joins tenders) but does not share the network budget.
    outsider = Population("LV", "Leidschendam-Voorburg", 78000, PEILDATUM_2023, False)
    populations = (JAARPLAN_POPULATIONS[3], outsider, *JAARPLAN_POPULATIONS[:3])
    key = allocation_key(budget(populations=populations))
    assert table(key) == [
        ("ZM", "31.31", "41027.00"),
        ("DE", "26.15", "34266.00"),
        ("PN", "14.22", "18633.00"),
        ("WE", "28.32", "37109.00"),
    ]


def test_negative_total_is_a_mirrored_credit():
    key = allocation_key(budget(), total=Decimal("-131035"))
    assert [str(s.amount) for s in key.shares] == [
        "-34266.00",
        "-18633.00",
        "-37109.00",
        "-41027.00",
    ]


@pytest.mark.parametrize(
    ("populations", "message"),
    [
        (
            tuple(
                Population(p.code, p.name, p.inhabitants, PEILDATUM_2023, False)
                for p in JAARPLAN_POPULATIONS
            ),
            "Geen enkele gemeente heeft Netwerk = ja voor 2024",
        ),
        ((), "Geen enkele gemeente heeft Netwerk = ja"),
        (
            (Population("DE", "Delft", 0, PEILDATUM_2023, True),),
            "totaal aantal inwoners van de netwerkgemeenten is nul",
        ),
        (
            JAARPLAN_POPULATIONS + (JAARPLAN_POPULATIONS[0],),
            "Gemeente DE staat meer dan eens met Netwerk = ja",
        ),
    ],
)
def test_unusable_members_refused_in_dutch(populations, message):
    with pytest.raises(ValueError, match=message):
        allocation_key(budget(populations=populations))


def test_unknown_method_refused():
    with pytest.raises(ValueError, match="Onbekende verdeelmethode 'gelijk'"):
        allocation_key(budget(method="gelijk"))


def test_total_with_more_than_two_decimals_refused():
    with pytest.raises(ValueError, match="meer dan 2 decimalen"):
        allocation_key(budget(), total=Decimal("100.005"))


@settings(max_examples=150, deadline=None)
@given(
    inhabitants=st.lists(st.integers(min_value=1, max_value=2_000_000), min_size=1, max_size=400),
    cents=st.integers(min_value=-(10**9), max_value=10**9),
    method=st.sampled_from(["procent", "exact"]),
    rounding=st.sampled_from(["euro", "cent"]),
)
def test_allocation_key_always_adds_up(inhabitants, cents, method, rounding):
    populations = tuple(
        Population(f"G{i:03d}", f"Gemeente {i}", n, PEILDATUM_2023, True)
        for i, n in enumerate(inhabitants)
    )
    total = Decimal(cents) / 100
    key = allocation_key(budget(populations=populations, method=method, rounding=rounding), total)

    assert sum(s.percentage for s in key.shares) == Decimal("100.00")
    assert sum(s.amount for s in key.shares) == total
    assert all(s.amount.as_tuple().exponent == -2 for s in key.shares)
    assert key.rounding == ("euro" if rounding == "euro" and cents % 100 == 0 else "cent")


# --- participation and collaboration matrices --------------------------------------------------

# Gemeenten sheet in a mixed order, to show core members come first in the columns.
MUNICIPALITIES = (
    Municipality("LV", "Leidschendam-Voorburg", core=False),
    Municipality("DE", "Delft", core=True),
    Municipality("RW", "Rijswijk", core=False),
    Municipality("PN", "Pijnacker-Nootdorp", core=True),
)
VERKENNING = Subject(3, "Verkenning duurzame energie", "2024", ("DE", "LV", "ME"))
SCHOONMAAK = Subject(1, "Schoonmaakdienstverlening", "2023", ("DE", "PN"))
BREED = Subject(4, "Breed uitzoeken: inhuur", "Nader te bepalen", ())
SPEEL = Subject(1, "Leveren Speel- en sporttoestellen", "2024", ("PN", "ME", "LV", "QQ"))
AFVAL = Subject(2, "Afvalinzameling", "2023/2024", ("DE", "PN", "LV"))
INHUUR = Subject(3, "Inhuur externen", "", ("LV", "PN", "PN"))  # PN typed twice
CALENDAR = Calendar(MUNICIPALITIES, (VERKENNING, SCHOONMAAK, BREED, SPEEL, AFVAL, INHUUR))


def test_participation_matrix_columns_rows_and_totals():
    matrix = participation_matrix(CALENDAR)

    # Core (calendar order DE, PN), extras (LV, RW), then unknown codes as first met: ME in
    # Verkenning (calendar row 1), QQ in Speel (row 4).
    assert matrix.columns == ("DE", "PN", "LV", "RW", "ME", "QQ")
    assert matrix.unknown == frozenset({"ME", "QQ"})
    # Category 1 (Schoonmaak, Speel), 2 (Afval), 3 (Verkenning, Inhuur), 4 (Breed).
    assert matrix.rows == (
        (SCHOONMAAK, frozenset({"DE", "PN"})),
        (SPEEL, frozenset({"PN", "ME", "LV", "QQ"})),
        (AFVAL, frozenset({"DE", "PN", "LV"})),
        (VERKENNING, frozenset({"DE", "LV", "ME"})),
        (INHUUR, frozenset({"LV", "PN"})),
        (BREED, frozenset()),
    )
    assert [
        matrix.row_totals(s) for s in (SCHOONMAAK, SPEEL, AFVAL, VERKENNING, INHUUR, BREED)
    ] == [2, 4, 3, 3, 2, 0]
    # DE: Verkenning, Schoonmaak, Afval. PN: Schoonmaak, Speel, Afval, Inhuur (once).
    # LV: Verkenning, Speel, Afval, Inhuur. RW: none. ME: Verkenning, Speel. QQ: Speel.
    totals = matrix.column_totals()
    assert totals == {"DE": 3, "PN": 4, "LV": 4, "RW": 0, "ME": 2, "QQ": 1}
    assert list(totals) == list(matrix.columns)


def test_row_totals_of_a_subject_not_in_the_matrix():
    with pytest.raises(KeyError):
        participation_matrix(CALENDAR).row_totals(Subject(1, "Onbekend", "", ("DE",)))


def test_collaboration_matrix_by_hand():
    collaboration = collaboration_matrix(CALENDAR)
    codes, count = collaboration.codes, collaboration.count

    assert codes == ("DE", "PN", "LV", "RW")  # unknown ME and QQ left out
    # Diagonal: subjects each takes part in (as the column totals above).
    assert [count(c, c) for c in codes] == [3, 4, 4, 0]
    # DE+PN: Schoonmaak, Afval. DE+LV: Verkenning, Afval. PN+LV: Speel, Afval, Inhuur.
    assert count("DE", "PN") == count("PN", "DE") == 2
    assert count("DE", "LV") == count("LV", "DE") == 2
    assert count("PN", "LV") == count("LV", "PN") == 3
    assert all(count("RW", c) == count(c, "RW") == 0 for c in codes)
    # Kept once: the upper triangle with the diagonal, a row per code, shorter by one each time.
    assert collaboration.shared == [[3, 2, 2, 0], [0, 4, 3, 0], [0, 0, 4, 0], [0, 0, 0, 0]]


@pytest.mark.parametrize(
    ("subjects", "participants"),
    [
        # National scale, 0-12 participants each: pairs counted one by one.
        (5000, (0, 12)),
        # 2-4 participants: at most 6 pairs a subject, far under 8 × 342²: pairs again.
        (100, (2, 4)),
        # Nearly everyone everywhere (about 50.000 pairs a subject): popcounts of bit masks.
        (100, (300, 342)),
    ],
)
def test_collaboration_matrix_matches_a_plain_pair_count(subjects, participants):
    rng = random.Random(2024)
    municipalities = tuple(Municipality(f"G{i:03d}", f"Gemeente {i}", i < 4) for i in range(342))
    codes = [m.code for m in municipalities]
    calendar = Calendar(
        municipalities,
        tuple(
            Subject(1, f"Onderwerp {n}", "", (*rng.sample(codes, rng.randint(*participants)), "XX"))
            for n in range(subjects)
        ),
    )
    collaboration = collaboration_matrix(calendar)

    expected: dict[tuple[str, str], int] = {}
    for subject in calendar.subjects:
        known = sorted(set(subject.participants) - {"XX"})  # G000 < G001 < ...: column order
        for a, b in [(code, code) for code in known] + list(combinations(known, 2)):
            expected[a, b] = expected.get((a, b), 0) + 1
    shared = collaboration.shared
    assert collaboration.codes == tuple(codes)  # the unknown XX left out
    assert {
        (codes[i], codes[j]): shared[i][j]
        for i in range(len(codes))
        for j in range(i, len(codes))
        if shared[i][j]
    } == expected
    assert not any(shared[i][j] for i in range(len(codes)) for j in range(i))  # upper only
