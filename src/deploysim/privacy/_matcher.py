"""Find known private values in text, in every form they are written, and replace them.

One matcher serves both the replacement pass (each value maps to its fake) and the leak
gate (the same forms, no fakes), so what counts as a leak is exactly what scrubbing removes.
Forms, by kind:

- literals (secrets, dates of birth, IPs, streets, usernames, full names), as trie-shaped
  regexes so thousands of values cost one scan; case-insensitive where case carries no
  meaning;
- emails (also URL-encoded) and domains, with their own boundaries (``x.jane@a.io`` does not
  contain ``jane@a.io``);
- name tokens: ``Mia``/``MIA`` as words, ``Mia`` as a camelCase hump (``customerMiaRecord``),
  and ``mia`` only inside identifiers (``mia_li_3668``, ``mia.li@``) so the colour "brown"
  survives a Mr Brown;
- digit values (phones, cards, SSNs, ZIP codes) by their digits whatever the punctuation
  (``+1 (415) 555-0132`` = ``415.555.0132``), rewritten in the punctuation found;
- IBANs by their compact form, with or without spaces.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

from deploysim.privacy._fakes import _render_alnum, match_case, render_digits
from deploysim.privacy._prose import obfuscated_emails, reobfuscate
from deploysim.privacy._types import EntityType, Kind, entity_type_of

__all__ = ["COMMON_WORD_NAMES", "Hit", "KnownValues", "Rep", "trie_pattern"]


class Rep(NamedTuple):
    """What a form stands for: the kind, the real value, and its fake (None in the gate)."""

    kind: Kind
    real: str
    fake: str | None


class Hit(NamedTuple):
    """A known value found in a text: ``text[start:end]``, and what to write instead."""

    start: int
    end: int
    rep: Rep
    replacement: str


def trie_pattern(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, shaped as a trie so it costs one scan.

    At any position the longest word wins (optional groups are greedy), and the lookarounds
    a caller adds around it can still backtrack to a shorter word.
    """
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _node_pattern(trie)


def _node_pattern(node: dict[str, Any]) -> str:
    chain = []
    while True:  # single-child chains are emitted in a loop: long secrets recurse no deeper
        keys = sorted(k for k in node if k)
        if len(keys) == 1 and "" not in node:
            chain.append(re.escape(keys[0]))
            node = node[keys[0]]
            continue
        break
    if not keys:
        return "".join(chain)
    alts = [re.escape(k) + _node_pattern(node[k]) for k in keys]
    if "" in node:
        return "".join(chain) + "(?:" + "|".join(alts) + ")?"
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    return "".join(chain) + body


_ALNUM = "[A-Za-z0-9]"
_LETTER = r"[^\W\d_]"
_EMAIL_LEFT = r"[A-Za-z0-9._%+-]"
_EMAIL_RIGHT = r"[A-Za-z0-9-]|\.[A-Za-z0-9]"
_MONTHS_DAYS = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)


class _Literals:
    """Literal forms with boundaries; one regex per boundary shape."""

    def __init__(self, ignore_case: bool, left: str, right: str) -> None:
        self.ignore_case = ignore_case
        self.left = left
        self.right = right
        self.forms: dict[str, Rep] = {}
        self._regexes: list[re.Pattern[str]] | None = None

    def add(self, surface: str, rep: Rep) -> None:
        key = surface.lower() if self.ignore_case else surface
        self.forms.setdefault(key, rep)
        self._regexes = None

    def _compile(self) -> list[re.Pattern[str]]:
        buckets: dict[tuple[bool, bool], list[str]] = {}
        for w in self.forms:
            shape = (bool(re.match(_ALNUM, w[0])), bool(re.match(_ALNUM, w[-1])))
            buckets.setdefault(shape, []).append(w)
        flags = re.IGNORECASE if self.ignore_case else 0
        regexes = []
        for (bounded_left, bounded_right), words in buckets.items():
            pattern = (
                (f"(?<!{self.left})" if bounded_left else "")
                + f"(?:{trie_pattern(words)})"
                + (f"(?!{self.right})" if bounded_right else "")
            )
            regexes.append(re.compile(pattern, flags))
        return regexes

    def hits(self, text: str) -> list[Hit]:
        if not self.forms:
            return []
        if self._regexes is None:
            self._regexes = self._compile()
        out = []
        for rx in self._regexes:
            for m in rx.finditer(text):
                surface = m.group()
                rep = self.forms.get(surface.lower() if self.ignore_case else surface)
                if rep is not None:
                    fake = "" if rep.fake is None else match_case(surface, rep.fake)
                    out.append(Hit(m.start(), m.end(), rep, fake))
        return out


class _Names:
    """Single name tokens in the three contexts that count (see the module docstring)."""

    def __init__(self) -> None:
        self.tokens: dict[str, Rep] = {}
        self._word: re.Pattern[str] | None = None
        self._hump: re.Pattern[str] | None = None
        self._ident: re.Pattern[str] | None = None

    def add(self, token: str, rep: Rep) -> None:
        self.tokens.setdefault(token.casefold(), rep)
        self._word = None

    def _compile(self) -> None:
        surfaces: set[str] = set()
        titles: set[str] = set()
        for rep in self.tokens.values():
            t = rep.real
            title = t[:1].upper() + t[1:]
            surfaces.update({t, title})
            if len(t) >= 4:  # MIA, LI, KIM in capitals are airport, state and stock codes
                surfaces.add(t.upper())
            titles.add(title)
        self._word = re.compile(f"(?<!{_LETTER})(?:{trie_pattern(surfaces)})(?!{_LETTER})")
        self._hump = re.compile(f"(?<=[a-z])(?:{trie_pattern(titles)})(?![a-z])")
        lowers = {rep.real.lower() for rep in self.tokens.values()}
        self._ident = re.compile(f"(?<!{_LETTER})(?:{trie_pattern(lowers)})(?!{_LETTER})")

    def hits(self, text: str) -> list[Hit]:
        if not self.tokens:
            return []
        if self._word is None:
            self._compile()
        assert self._word is not None and self._hump is not None and self._ident is not None
        out: list[Hit] = []
        words: list[Hit] = []
        for m in self._word.finditer(text):
            if m.group().casefold() in _MONTHS_DAYS and _date_context(text, m.start(), m.end()):
                continue
            self._add(words, m, text)
        out.extend(_in_person_context(words, text))
        for m in self._hump.finditer(text):
            if m.group().casefold() not in COMMON_WORD_NAMES:
                self._add(out, m, text)
        for m in self._ident.finditer(text):
            if _identifier_context(text, m.start(), m.end()):
                self._add(out, m, text)
        return out

    def _add(self, out: list[Hit], m: re.Match[str], text: str) -> None:
        rep = self.tokens.get(m.group().casefold())
        if rep is not None and not _inside_random_token(text, m.start(), m.end()):
            fake = "" if rep.fake is None else match_case(m.group(), rep.fake)
            out.append(Hit(m.start(), m.end(), rep, fake))


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Names that are also everyday English words. Alone in a sentence they are words ("West
# Coast", "Lake Jennifer", "Price: 20"); they count as a name when the whole value is the
# name (a JSON field), next to another name part ("Corey West"), or after a title.
COMMON_WORD_NAMES = _words(
    """
    west east north south new lake port mount fort saint king young price long hill green brown
    white black gray grey little may june april august will mark bill rose lily hope grace faith
    joy art ray dean guy case bay page love major hall wood woods stone rich bell park lane ford
    chase frank sunny summer winter spring autumn dawn crystal amber ruby pearl jade ivy holly
    olive iris daisy violet hazel sky storm river brook banks church field fields fish fox wolf
    lamb bird swan drake crane hawk moon star day knight bishop cross marsh moss reed rivers
    street waters wells house best strong small short power bright sharp sweet gold silver cash
    bond law judge noble free friend good hart heart english french welsh norman parish
    christian sterling story lord pope prince duke early hardy honey penny rice salt bean berry
    cherry branch root glen dale vale ridge cliff rock flint steel iron coral wall gates pool
    bridge cole snow frost rain fair hale hay rust brand wise golden swift
    """
)
_TITLE_BEFORE = re.compile(r"(?:Mr|Mrs|Ms|Miss|Dr|Prof|Sir|Madam|Mx)\.?\s+$")
# A greeting or a sign-off right before: "Hi Frank,", "Thanks,\nFrank".
_GREETING_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:Hi|Hello|Hey|Dear|Thanks|Thank you|Regards|Cheers|Best)"
    r"[ \t]*[,!]?[ \t]*(?:\n|\\n)?[ \t]*$"
)


def _in_person_context(words: list[Hit], text: str) -> list[Hit]:
    """Word hits, keeping a common-word name only where it reads as a person's name."""
    kept = []
    for i, h in enumerate(words):
        if h.rep.real.casefold() not in COMMON_WORD_NAMES:
            kept.append(h)
            continue
        prev = words[i - 1] if i else None
        nxt = words[i + 1] if i + 1 < len(words) else None
        beside = (prev is not None and text[prev.end : h.start] in (" ", " - ")) or (
            nxt is not None and text[h.end : nxt.start] in (" ", " - ")
        )
        whole = text.strip() == text[h.start : h.end]
        titled = bool(_TITLE_BEFORE.search(text[max(0, h.start - 8) : h.start]))
        greeted = bool(_GREETING_BEFORE.search(text[max(0, h.start - 24) : h.start]))
        if beside or whole or titled or greeted:
            kept.append(h)
    return kept


_IDENT_RUN = re.compile(r"[\w.@+-]*")
_URL_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _identifier_context(text: str, start: int, end: int) -> bool:
    """Whether a lower-case name sits inside an identifier (``mia_li_3668``, ``mia.li3818``).

    ``_``, ``@``, ``+`` or a digit beside it make an identifier; ``.`` and ``-`` only when the
    identifier around also has a digit, ``_`` or ``@`` (so "dark-brown." stays prose).
    """
    if "%" in text:  # "%20brown.com": the escape is a separator, not part of an identifier
        text = _URL_ESCAPE.sub("   ", text)
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if any(c in "_@+" or c.isdigit() for c in (before, after) if c):
        return True
    if before not in (".", "-") and after not in (".", "-"):
        return False
    a = start
    while a > 0 and (text[a - 1].isalnum() or text[a - 1] in "_.@+-"):
        a -= 1
    run = _IDENT_RUN.match(text, a)
    token = run.group() if run else ""
    return any(c.isdigit() or c in "_@" for c in token)


_SEGMENTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _inside_random_token(text: str, start: int, end: int) -> bool:
    """Whether a name hit sits inside a random-looking id (``call_2xzbrH6DkLixcu4G``).

    The alphanumeric run around the hit is split into camelCase humps and digit groups;
    words (``customerMiaRecord``, ``li3818``) have few digit groups and long humps, random
    ids have several digit groups or short humps. Names inside ids made of random
    characters are coincidences, not mentions.
    """
    a, b = start, end
    while a > 0 and text[a - 1].isalnum():
        a -= 1
    while b < len(text) and text[b].isalnum():
        b += 1
    if (a, b) == (start, end):
        return False
    segments = _SEGMENTS.findall(text[a:b])
    digit_groups = sum(seg.isdigit() for seg in segments)
    letters = [seg for seg in segments if not seg.isdigit()]
    if digit_groups >= 2:
        return True
    mean = sum(map(len, letters)) / len(letters) if letters else 0.0
    return len(segments) >= 3 and mean < 3.5


def _date_context(text: str, start: int, end: int) -> bool:
    """``May 20``, ``20 May``, ``Friday, 3``: a month or weekday, not a person."""
    return bool(re.match(r"[ ,]*\d", text[end : end + 4])) or bool(
        re.search(r"\d(?:st|nd|rd|th)?[ ,]*$", text[max(0, start - 6) : start])
    )


_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9_])\d(?:[\d().-]|[ \t](?=[\d(]))*\d")
_DIGITS = re.compile(r"\d+")
_MAX_JOINED = 21  # digits: 00 + E.164 (15) + slack


class _DigitValues:
    """Values known by their digits: phones, cards, SSNs, ZIP codes."""

    def __init__(self) -> None:
        self.table: dict[str, Rep] = {}

    def add(self, digits: str, rep: Rep) -> None:
        self.table.setdefault(digits, rep)

    def hits(self, text: str) -> list[Hit]:
        if not self.table:
            return []
        out: list[Hit] = []
        for run in _DIGIT_RUN.finditer(text):
            groups = [
                (m.start() + run.start(), m.end() + run.start(), m.group())
                for m in _DIGITS.finditer(run.group())
            ]
            i = 0
            while i < len(groups):
                best: tuple[int, Rep] | None = None
                joined = ""
                for j in range(i, min(len(groups), i + 8)):
                    joined += groups[j][2]
                    if len(joined) > _MAX_JOINED:
                        break
                    rep = self.table.get(joined)
                    # Short values (ZIP codes) must be a whole group: "321.18" is no ZIP 32118.
                    if rep is not None and (j == i or len(joined) >= 7):
                        best = (j, rep)
                if best is None:
                    i += 1
                    continue
                j, rep = best
                start, end = groups[i][0], groups[j][1]
                fake = "" if rep.fake is None else render_digits(text[start:end], rep.fake)
                out.append(Hit(start, end, rep, fake))
                i = j + 1
        return out


_IBAN_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}[A-Za-z0-9 -]{10,44}")


class _Ibans:
    def __init__(self) -> None:
        self.table: dict[str, Rep] = {}
        self.lengths: set[int] = set()

    def add(self, compact: str, rep: Rep) -> None:
        self.table.setdefault(compact, rep)
        self.lengths.add(len(compact))

    def hits(self, text: str) -> list[Hit]:
        if not self.table:
            return []
        out = []
        for run in _IBAN_RUN.finditer(text):
            chars = [(i, c) for i, c in enumerate(run.group()) if c.isalnum()]
            for n in sorted(self.lengths, reverse=True):
                if n > len(chars):
                    continue
                rep = self.table.get("".join(c for _, c in chars[:n]).upper())
                end = run.start() + chars[n - 1][0] + 1
                if rep is None or (end < len(text) and text[end].isalnum()):
                    continue
                surface = text[run.start() : end]
                fake = "" if rep.fake is None else _render_alnum(surface, rep.fake)
                out.append(Hit(run.start(), end, rep, fake))
                break
        return out


class KnownValues:
    """All forms of a set of known values; finds them and rewrites text in one pass."""

    def __init__(self) -> None:
        self.literals_cs = _Literals(False, _ALNUM, _ALNUM)
        self.literals_ci = _Literals(True, _ALNUM, _ALNUM)
        self.emails = _Literals(True, _EMAIL_LEFT, _EMAIL_RIGHT)
        self.domains = _Literals(True, "[A-Za-z0-9-]", _EMAIL_RIGHT)
        self.names = _Names()
        self.digits = _DigitValues()
        self.ibans = _Ibans()

    def __len__(self) -> int:
        return sum(
            len(x)
            for x in (
                self.literals_cs.forms,
                self.literals_ci.forms,
                self.emails.forms,
                self.domains.forms,
                self.names.tokens,
                self.digits.table,
                self.ibans.table,
            )
        )

    def hits(self, text: str) -> list[Hit]:
        """Non-overlapping hits, longest first where two overlap."""
        found: list[Hit] = []
        for m in (
            self.literals_cs,
            self.literals_ci,
            self.emails,
            self.domains,
            self.names,
            self.digits,
            self.ibans,
        ):
            found.extend(m.hits(text))
        if self.emails.forms:
            found.extend(self._obfuscated_hits(text))
        if len(found) < 2:
            return found
        found.sort(key=lambda h: (h.start - h.end, h.start))
        starts: list[int] = []
        chosen: list[Hit] = []
        for h in found:
            k = bisect.bisect_right(starts, h.start)
            if k and chosen[k - 1].end > h.start:
                continue
            if k < len(chosen) and chosen[k].start < h.end:
                continue
            starts.insert(k, h.start)
            chosen.insert(k, h)
        return chosen

    def _obfuscated_hits(self, text: str) -> list[Hit]:
        """Known emails written as ``name at domain dot com``, replaced in the same style."""
        out = []
        for o in obfuscated_emails(text):
            rep = self.emails.forms.get(o.email.lower())
            if rep is not None:
                surface = text[o.start : o.end]
                fake = "" if rep.fake is None else reobfuscate(surface, rep.fake)
                out.append(Hit(o.start, o.end, rep, fake))
        return out

    def replace(self, text: str) -> tuple[str, Counter[EntityType]]:
        """``text`` with every known value replaced, and how many of each type were."""
        hits = self.hits(text)
        counts: Counter[EntityType] = Counter()
        if not hits:
            return text, counts
        out = []
        pos = 0
        for h in hits:
            out.append(text[pos : h.start])
            out.append(h.replacement)
            pos = h.end
            counts[entity_type_of(h.rep.kind)] += 1
        out.append(text[pos:])
        return "".join(out), counts
