"""Municipalities as coordinators write them: codes or names, resolved through a Directory.

The calendar's `Gemeenten` sheet and the budget's `Inwoners` sheet both give (code, name) pairs.
A cell may then name a municipality by its code (`PN`, `pn`, `RW*`) or by its name in any case,
with hyphens or spaces, 'a/d' for 'aan den' and a leading 'Gemeente' (`Pijnacker Nootdorp`,
`capelle a/d ijssel`, `Gemeente Delft`), several joined by , ; & / ' en ' or (between codes)
spaces. Known names are matched first, longest first, so the '/' in 'Capelle a/d IJssel' and
the comma and 'en' in 'Nuenen, Gerwen en Nederwetten' never split a name.

Ambiguity is never guessed: a word that looks like a name but matches no known name, or a name
shared by two codes, is a ValueError in Dutch listing what is known. A word that looks like a
code but is unknown stays in the result as that code; the checks report it with their rules.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

from . import values

_MARKS = frozenset(",;&/")
# Between words: white space, hyphens and dashes, and the separator marks.
_BETWEEN = r"\s,;&/\-\u2010-\u2015"
# One token: 'a/d' or 'a.d.' (for 'aan den'), a separator mark, or a word. Hyphens and white
# space only separate words ('Pijnacker-Nootdorp' is two words, like 'Pijnacker Nootdorp').
_TOKEN = re.compile(rf"a\s*[/.]\s*d\.?(?![^{_BETWEEN}])|[,;&/]|[^{_BETWEEN}]+", re.IGNORECASE)
_A_D = re.compile(r"a\s*[/.]\s*d\.?", re.IGNORECASE)
_IGNORED_CHARACTERS = re.compile(r"[().'\u2018\u2019`\"]")
_CODE = re.compile(r"[A-Z0-9]{1,10}")
_AND_WORDS = frozenset({"en", "En"})  # in capitals EN may be a code
_GEMEENTE = "gemeente"
_LISTED = 30  # known municipalities named in a message; beyond this, the sheet is referred to


class _Token(NamedTuple):
    typed: str  # as typed, without a footnote mark
    key: str  # normalised: 'pijnacker', 'aan den', or the mark itself
    start: int
    end: int


def _word_key(word: str) -> str:
    """One word, case-, accent- and punctuation-free: "'s" -> 's', 'Fryslân' -> 'fryslan'."""
    if _A_D.fullmatch(word):
        return "aan den"
    folded = unicodedata.normalize("NFKD", word.casefold())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return _IGNORED_CHARACTERS.sub("", folded)


def _tokens(typed: str) -> list[_Token]:
    found: list[_Token] = []
    for match in _TOKEN.finditer(typed):
        word = match.group()
        if word in _MARKS:
            found.append(_Token(word, word, match.start(), match.end()))
            continue
        word = values.without_footnote(word)
        key = _word_key(word)
        if not key:
            continue  # a lone footnote mark or '()'
        if key == "den" and found and found[-1].key == "aan":  # 'aan den' as one key, like 'a/d'
            previous = found.pop()
            found.append(
                _Token(typed[previous.start : match.end()], "aan den", previous.start, match.end())
            )
            continue
        found.append(_Token(word, key, match.start(), match.end()))
    return found


def _name_keys(name: str) -> list[tuple[str, ...]]:
    """The keys a name is known by: its words, with and without the separator marks in it."""
    keys = [token.key for token in _tokens(name)]
    if len(keys) > 1 and keys[0] == _GEMEENTE:
        keys = keys[1:]
    words = [key for key in keys if key not in _MARKS]
    if not words:
        return []
    return list(dict.fromkeys([tuple(keys), tuple(words)]))


class Directory:
    """The known municipalities, resolving what a coordinator typed into codes.

    Built once from (code, name) pairs; immutable. Resolution costs a few dictionary look-ups
    per word, whatever the number of municipalities.
    """

    __slots__ = ("_names", "_by_key", "_longest", "_source")

    _names: Mapping[str, str]
    _by_key: Mapping[tuple[str, ...], tuple[str, ...]]
    _longest: int
    _source: str

    def __init__(self, pairs: Iterable[tuple[object, object]] = (), *, source: str = "Gemeenten"):
        """`pairs`: (code, name); `source`: the sheet(s) they come from, for messages.

        Codes are read as `values.code` reads them (a malformed code is a ValueError); a pair
        with an empty name only makes its code known.
        """
        names: dict[str, str] = {}
        by_key: dict[tuple[str, ...], list[str]] = {}
        for raw_code, raw_name in pairs:
            code = values.code(raw_code)
            name = values.text(raw_name)
            names.setdefault(code, name)
            for key in _name_keys(name):
                known = by_key.setdefault(key, [])
                if code not in known:
                    known.append(code)
        object.__setattr__(self, "_names", MappingProxyType(names))
        object.__setattr__(
            self, "_by_key", MappingProxyType({k: tuple(v) for k, v in by_key.items()})
        )
        object.__setattr__(self, "_longest", max(map(len, by_key), default=0))
        object.__setattr__(self, "_source", source)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Directory is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Directory is immutable")

    def __repr__(self) -> str:
        return f"Directory({len(self._names)} gemeenten uit {self._source})"

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, code: object) -> bool:
        return code in self._names

    @property
    def names(self) -> Mapping[str, str]:
        """Code -> name (the first name given for the code), in the order given."""
        return self._names

    def resolve(self, value: object) -> tuple[str, ...]:
        """The codes a participants cell names: 'Delft, Westland', 'DE PN en WE', 'RW*'.

        In order, no repeats. An empty Directory reads codes only, as `values.codes` does.
        Raises ValueError (Dutch) for a name it does not know or that fits two municipalities.
        """
        if not self._names:
            return values.codes(value)
        if values.is_empty(value):
            return ()
        typed = values.text(value)
        tokens = _tokens(typed)
        found: list[str] = []
        pending: list[_Token] = []  # words matching no name, up to the next separator or name
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.key in _MARKS or self._is_and(tokens, index):
                self._settle(typed, pending, found)
                index += 1
                continue
            length, codes = self._match(tokens, index)
            if not length and token.key == _GEMEENTE:  # 'Gemeente Delft'
                length, codes = self._match(tokens, index + 1)
                length += 1 if length else 0
            if not length:
                pending.append(token)
                index += 1
                continue
            self._settle(typed, pending, found)
            if len(codes) > 1:
                phrase = typed[token.start : tokens[index + length - 1].end]
                raise ValueError(
                    f"'{values.visible(phrase)}' past bij meer dan één gemeente: "
                    f"{self._listing(codes)}; gebruik de code"
                )
            _add(found, codes[0])
            index += length
        self._settle(typed, pending, found)
        return tuple(found)

    def resolve_one(self, value: object) -> str:
        """The one municipality a cell names (Toetredingen › Gemeente, Penvoerder): code or name.

        An empty Directory reads one code, as `values.code` does.
        """
        if not self._names:
            return values.code(value)
        found = self.resolve(value)
        if len(found) != 1:
            example = next(iter(self._names.items()), None)
            hint = f", bijvoorbeeld {example[0]} of {example[1]}" if example and example[1] else ""
            raise ValueError(
                f"'{values.visible(values.text(value))}' is niet één gemeente; vul één code of "
                f"naam in{hint}"
            )
        return found[0]

    def _is_and(self, tokens: list[_Token], index: int) -> bool:
        """'en' or 'En' (not 'EN', a possible code) between two words is a separator.

        As in `values.codes`: next to a mark ('DE en, WE') or at an end ('DE en') it is not.
        """
        return (
            tokens[index].typed in _AND_WORDS
            and 0 < index < len(tokens) - 1
            and tokens[index - 1].key not in _MARKS
            and tokens[index + 1].key not in _MARKS
        )

    def _match(self, tokens: list[_Token], index: int) -> tuple[int, tuple[str, ...]]:
        """The longest known name starting at `index`: (number of tokens, its codes), or (0, ())."""
        if index >= len(tokens) or tokens[index].key in _MARKS:
            return 0, ()
        for length in range(min(self._longest, len(tokens) - index), 0, -1):
            codes = self._by_key.get(tuple(token.key for token in tokens[index : index + length]))
            if codes:
                return length, codes
        return 0, ()

    def _settle(self, typed: str, pending: list[_Token], found: list[str]) -> None:
        """Words that matched no name: known codes, code-like words, or else an unknown name."""
        group: list[_Token] = []
        for token in [*pending, None]:
            code = token.typed.upper() if token is not None else ""
            if token is not None and code not in self._names:
                group.append(token)
                continue
            if group:
                if not all(_looks_like_code(t.typed) for t in group):
                    self._unknown(typed[group[0].start : group[-1].end])
                for unknown in group:
                    _add(found, unknown.typed.upper())
                group = []
            if token is not None:
                _add(found, code)
        pending.clear()

    def _unknown(self, phrase: str) -> None:
        """The ValueError for an unknown name: what is known, and what may be meant."""
        hidden = values.invisible_characters(phrase)
        close = [] if hidden else [self._shown(code) for code in self._close_to(phrase)]
        if hidden:
            advice = (
                f" (er staat een onzichtbaar teken in: {', '.join(dict.fromkeys(hidden))}); "
                "typ de naam opnieuw of gebruik"
            )
        elif close:
            advice = f"; bedoelt u {' of '.join(close)}? Gebruik anders"
        else:
            advice = "; gebruik"
        raise ValueError(
            f"'{values.visible(phrase)}' is geen bekende gemeente{advice} een code of naam uit "
            f"{self._source}: {self._listing(tuple(self._names))}"
        )

    def _close_to(self, phrase: str) -> list[str]:
        """Up to three codes whose name starts like `phrase` or is spelled much like it."""
        wanted = " ".join(token.key for token in _tokens(phrase) if token.key not in _MARKS)
        if not wanted:
            return []
        by_words: dict[str, list[str]] = {}
        for key, codes in self._by_key.items():
            by_words.setdefault(" ".join(k for k in key if k not in _MARKS), []).extend(codes)
        starting = [words for words in by_words if words.startswith(wanted + " ")]
        similar = difflib.get_close_matches(wanted, list(by_words), n=3, cutoff=0.75)
        found = dict.fromkeys(code for words in (*starting, *similar) for code in by_words[words])
        return list(found)[:3]

    def _shown(self, code: str) -> str:
        return f"{self._names[code]} ({code})" if self._names[code] else code

    def _listing(self, codes: tuple[str, ...]) -> str:
        shown = [f"{code} ({self._names[code]})" if self._names[code] else code for code in codes]
        if len(shown) <= _LISTED:
            return ", ".join(shown)
        return (
            f"{', '.join(shown[:_LISTED])} en nog {len(shown) - _LISTED} (zie het werkblad "
            f"{self._source})"
        )


def _looks_like_code(typed: str) -> bool:
    """A code typed as such: the code pattern, and in capitals or at most three characters."""
    return bool(_CODE.fullmatch(typed.upper())) and (typed == typed.upper() or len(typed) <= 3)


def _add(found: list[str], code: str) -> None:
    if code not in found:
        found.append(code)
