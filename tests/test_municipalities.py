"""Municipalities as coordinators write them: codes or names, resolved through a Directory."""

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inkoopkracht_xl.read import values
from inkoopkracht_xl.read.municipalities import Directory

# The jaarplan's legend (Gemeenten): kern and extra municipalities.
LEGEND = (
    ("DE", "Delft"),
    ("PN", "Pijnacker-Nootdorp"),
    ("WE", "Westland"),
    ("ZM", "Zoetermeer"),
    ("CP", "Capelle a/d IJssel"),
    ("LS", "Lansingerland"),
    ("LV", "Leidschendam-Voorburg"),
    ("MD", "Midden-Delfland"),
    ("RW", "Rijswijk"),
    ("VS", "Voorschoten"),
    ("WS", "Wassenaar"),
)
KNOWN = (
    "DE (Delft), PN (Pijnacker-Nootdorp), WE (Westland), ZM (Zoetermeer), CP (Capelle a/d IJssel), "
    "LS (Lansingerland), LV (Leidschendam-Voorburg), MD (Midden-Delfland), RW (Rijswijk), "
    "VS (Voorschoten), WS (Wassenaar)"
)
JAARPLAN = Directory(LEGEND)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Delft, Westland", ("DE", "WE")),
        ("Midden-Delfland", ("MD",)),
        ("Pijnacker Nootdorp", ("PN",)),
        ("Pijnacker-Nootdorp", ("PN",)),
        ("pijnacker-nootdorp", ("PN",)),
        ("PIJNACKER  NOOTDORP", ("PN",)),
        ("Pijnacker \u2013 Nootdorp", ("PN",)),  # an en dash, as Word makes of a hyphen
        ("Capelle a/d IJssel", ("CP",)),
        ("Capelle aan den IJssel", ("CP",)),
        ("capelle a.d. ijssel", ("CP",)),
        ("Capelle a/d IJssel/Delft", ("CP", "DE")),  # '/' inside the name does not split it
        ("Delft / Capelle a/d IJssel", ("DE", "CP")),
        ("DE PN WE", ("DE", "PN", "WE")),
        ("de, pn /we", ("DE", "PN", "WE")),
        ("DE, PN en WE", ("DE", "PN", "WE")),
        ("Delft en Westland", ("DE", "WE")),
        ("DE en", ("DE", "EN")),  # not between two: may be the code EN
        ("Delft & Westland", ("DE", "WE")),
        ("RW*", ("RW",)),
        ("Rijswijk*, Wassenaar**", ("RW", "WS")),
        ("Gemeente Delft; gemeente Zoetermeer", ("DE", "ZM")),
        ("Delft, DE, delft", ("DE",)),  # no repeats
        ("DE, Leidschendam-Voorburg en ZM", ("DE", "LV", "ZM")),
        ("DE, PN, WE, ZM, LV", ("DE", "PN", "WE", "ZM", "LV")),
        ("", ()),
        (None, ()),
    ],
)
def test_codes_and_names_as_typed(typed, expected):
    assert JAARPLAN.resolve(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("DE, ME", ("DE", "ME")),  # the seed's unknown ME: kept, the checks report it
        ("me", ("ME",)),  # at most three characters: a code
        ("Me", ("ME",)),
        ("WEST", ("WEST",)),  # in capitals: a code
        ("DE EN WE", ("DE", "EN", "WE")),  # in capitals EN may be a code
        ("Delft XY", ("DE", "XY")),
        ("RX*", ("RX",)),
    ],
)
def test_unknown_codes_stay_codes(typed, expected):
    assert JAARPLAN.resolve(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "Rotterdam",
            "'Rotterdam' is geen bekende gemeente; gebruik een code of naam uit Gemeenten: "
            f"{KNOWN}",
        ),
        (
            "DE, Den Haag",
            f"'Den Haag' is geen bekende gemeente; gebruik een code of naam uit Gemeenten: {KNOWN}",
        ),
        (
            "Delfd",
            "'Delfd' is geen bekende gemeente; bedoelt u Delft (DE)? Gebruik anders een code of "
            f"naam uit Gemeenten: {KNOWN}",
        ),
        (
            "Pijnacker",
            "'Pijnacker' is geen bekende gemeente; bedoelt u Pijnacker-Nootdorp (PN)? Gebruik "
            f"anders een code of naam uit Gemeenten: {KNOWN}",
        ),
        (
            "West\u200bland",
            "'West<U+200B>land' is geen bekende gemeente (er staat een onzichtbaar teken in: "
            f"U+200B); typ de naam opnieuw of gebruik een code of naam uit Gemeenten: {KNOWN}",
        ),
        (
            "P.N.",
            f"'P.N.' is geen bekende gemeente; gebruik een code of naam uit Gemeenten: {KNOWN}",
        ),
    ],
)
def test_unknown_names_are_refused_with_what_is_known(typed, message):
    with pytest.raises(ValueError) as refused:
        JAARPLAN.resolve(typed)
    assert str(refused.value) == message


def test_a_name_of_two_municipalities_is_refused():
    directory = Directory(
        [("BL", "Bergen (L.)"), ("BN", "Bergen (NH.)"), ("BE", "Bergen"), ("BG", "bergen")]
    )
    assert directory.resolve("Bergen (L), Bergen NH.") == ("BL", "BN")
    with pytest.raises(ValueError) as refused:
        directory.resolve("Bergen")
    assert str(refused.value) == (
        "'Bergen' past bij meer dan één gemeente: BE (Bergen), BG (bergen); gebruik de code"
    )
    assert directory.resolve("BE, BG") == ("BE", "BG")


def test_two_sheets_may_name_one_code_twice():
    # Gemeenten says 'Capelle a/d IJssel', Inwoners 'Capelle aan den IJssel': one municipality.
    directory = Directory([*LEGEND, ("CP", "Capelle aan den IJssel"), ("DE", "Gemeente Delft")])
    assert directory.resolve("Capelle aan den IJssel, Delft") == ("CP", "DE")
    assert directory.names["CP"] == "Capelle a/d IJssel"


def test_names_with_commas_and_en_are_not_split():
    directory = Directory(
        [("NU", "Nuenen, Gerwen en Nederwetten"), ("HB", "'s-Hertogenbosch"), ("DE", "Delft")]
    )
    assert directory.resolve("Nuenen, Gerwen en Nederwetten, Delft") == ("NU", "DE")
    assert directory.resolve("Delft en Nuenen Gerwen en Nederwetten") == ("DE", "NU")
    assert directory.resolve("s-Hertogenbosch en \u2019s-Hertogenbosch") == ("HB",)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ZM", "ZM"),
        ("Zoetermeer", "ZM"),
        ("Gemeente Zoetermeer", "ZM"),
        ("pijnacker nootdorp", "PN"),
        ("Capelle a/d IJssel", "CP"),
        ("RW*", "RW"),
        ("ME", "ME"),
    ],
)
def test_one_municipality(typed, expected):
    assert JAARPLAN.resolve_one(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "DE, WE",
            "'DE, WE' is niet één gemeente; vul één code of naam in, bijvoorbeeld DE of Delft",
        ),
        (
            "Delft en Westland",
            "'Delft en Westland' is niet één gemeente; vul één code of naam in, "
            "bijvoorbeeld DE of Delft",
        ),
        ("", "'' is niet één gemeente; vul één code of naam in, bijvoorbeeld DE of Delft"),
        (
            "Rotterdam",
            f"'Rotterdam' is geen bekende gemeente; gebruik een code of naam uit "
            f"Gemeenten: {KNOWN}",
        ),
    ],
)
def test_not_one_municipality(typed, message):
    with pytest.raises(ValueError) as refused:
        JAARPLAN.resolve_one(typed)
    assert str(refused.value) == message


def test_source_names_the_sheet_in_messages():
    directory = Directory([("DE", "Delft")], source="Inwoners")
    with pytest.raises(ValueError) as refused:
        directory.resolve("Rotterdam")
    assert str(refused.value) == (
        "'Rotterdam' is geen bekende gemeente; gebruik een code of naam uit Inwoners: DE (Delft)"
    )


@pytest.mark.parametrize(
    "typed",
    [
        "DE, PN, WE",
        "de;pn / we",
        "DE, PN en WE",
        "DE en, WE",
        "DE en",
        "RW*",
        "Delft",
        "DE EN WE",
        "",
        None,
        "ME & me",
    ],
)
def test_an_empty_directory_reads_codes_as_values_codes_does(typed):
    assert Directory().resolve(typed) == values.codes(typed)
    assert Directory([]).resolve("Delft, Westland") == ("DELFT", "WESTLAND")


@pytest.mark.parametrize("typed", ["DE, P.N.", "DE,\u200bPN"])
def test_an_empty_directory_refuses_what_values_codes_refuses(typed):
    with pytest.raises(ValueError) as expected:
        values.codes(typed)
    with pytest.raises(ValueError) as refused:
        Directory().resolve(typed)
    assert str(refused.value) == str(expected.value)


def test_an_empty_directory_resolves_one_code():
    assert Directory().resolve_one("de") == "DE"
    with pytest.raises(ValueError, match="niet één gemeentecode"):
        Directory().resolve_one("DE, WE")


def test_the_directory_is_immutable():
    with pytest.raises(AttributeError):
        JAARPLAN._by_key = {}
    with pytest.raises(AttributeError):
        del JAARPLAN._names
    with pytest.raises(TypeError):
        JAARPLAN.names["XX"] = "Nergenshuizen"
    assert len(JAARPLAN) == 11
    assert "DE" in JAARPLAN and "ME" not in JAARPLAN


def test_a_malformed_code_in_the_pairs_is_refused():
    with pytest.raises(ValueError, match="geen gemeentecode"):
        Directory([("P.N.", "Pijnacker-Nootdorp")])


# --- Any mix of codes and names, in any of the ways people write them ------------------------


def _spellings(code: str, name: str) -> list[str]:
    return [
        code,
        code.lower(),
        code + "*",
        name,
        name.lower(),
        name.upper(),
        name.replace("-", " "),
        name.replace("a/d", "aan den"),
        "Gemeente " + name,
        name + "*",
    ]


@given(
    st.lists(st.sampled_from(LEGEND), min_size=1, max_size=11, unique=True).flatmap(
        lambda chosen: st.tuples(
            st.just([code for code, _ in chosen]),
            st.tuples(*(st.sampled_from(_spellings(code, name)) for code, name in chosen)),
            st.lists(
                st.sampled_from([", ", ",", "; ", " en ", " & ", " / ", "/"]),
                min_size=len(chosen),
                max_size=len(chosen),
            ),
        )
    )
)
def test_any_list_of_codes_and_names_resolves(case):
    codes, spellings, separators = case
    typed = "".join(s + sep for s, sep in zip(spellings, separators, strict=True))
    typed = typed[: -len(separators[-1])]
    assert JAARPLAN.resolve(typed) == tuple(codes)


# --- National scale -----------------------------------------------------------------------------

_PREFIXES = ("Noord", "Zuid", "Oost", "West", "Groot", "Klein", "Oud", "Nieuw", "Hoog", "Laag")
_STEMS = ("dam", "dorp", "veen", "wijk", "horst", "broek", "hoven", "loo", "rade", "zande")
_PLACES = ("aan den IJssel", "a/d Rijn", "Nootdorp", "Voorburg", "Gerwen en Nederwetten")


def _national() -> list[tuple[str, str]]:
    """About 400 municipalities with names like real ones: one and several words, hyphens, a/d."""
    pairs = []
    for i, prefix in enumerate(_PREFIXES):
        for j, stem in enumerate(_STEMS):
            base = f"{prefix}{stem}"
            pairs.append((f"A{i}{j}", base))
            pairs.append((f"B{i}{j}", f"{base}-{_PLACES[(i + j) % len(_PLACES)]}"))
            pairs.append((f"C{i}{j}", f"{prefix}-{stem.capitalize()}"))
            pairs.append((f"D{i}{j}", f"Sint {base} {_PLACES[(i * j) % len(_PLACES)]}"))
    return pairs


def test_resolution_at_national_scale():
    pairs = _national()
    normalised = {name.lower().replace("-", " ").replace("a/d", "aan den") for _, name in pairs}
    assert len(pairs) == len(normalised) == 400
    directory = Directory(pairs)
    for code, name in pairs:  # every name resolves, also written lower case with spaces
        assert directory.resolve(name) == (code,)
        assert directory.resolve(name.lower().replace("-", " ")) == (code,)
    cells = [
        ", ".join(name if k % 2 else code for k, (code, name) in enumerate(pairs[i : i + 12]))
        for i in range(0, len(pairs) - 12)
    ]
    expected = [tuple(code for code, _ in pairs[i : i + 12]) for i in range(0, len(pairs) - 12)]
    start = time.perf_counter()
    for _ in range(10):  # ~3,900 cells of 12 municipalities each
        assert [directory.resolve(cell) for cell in cells] == expected
    elapsed = time.perf_counter() - start
    assert elapsed < 10, f"{elapsed:.1f} s for {10 * len(cells)} cells"
