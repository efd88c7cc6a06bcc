"""Private values that only the shape of the surrounding text gives away.

No NER: these rules read positions that name a person or an address whatever the words
are, so they hold on agent traces (where NER misfires on JSON, ids and product names):

- **greetings and signatures**: ``Hi Maria,``, ``Dear Dr. Becker:``, ``Thanks, Jonas
  Becker`` (or the name on the next line), ``my name is Jonas``; words that follow a
  greeting but are not names (``Hi team,``, ``Dear customer``) are on a stop-list;
- **names beside an email**: ``Maria Schmidt <m.schmidt@acme.io>``, ``maria@acme.io (Maria
  Schmidt)``, when a name token also appears in the email's local part;
- **street addresses**: a house number and capitalized words ending in a street type
  (``4821 Maple Grove Road``, ``Suite 12``), or a German-style street and number
  (``Lindenstraße 12``); a US ZIP code after a state code (``Austin, TX 78701``);
- **obfuscated emails**: ``name at domain dot com``, ``name [at] domain [dot] com``; the
  domain must end in a public suffix, and a plain `` at `` needs a spelled `` dot ``, so
  "look at example.com" and "meet at 5 at the office" are prose.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from deploysim.privacy._types import Span

if TYPE_CHECKING:
    import tldextract

__all__ = [
    "Obfuscated",
    "deobfuscate_email",
    "detect_prose",
    "email_spans",
    "obfuscated_emails",
    "offline_suffixes",
    "reobfuscate",
]

_NAME = r"[A-Z][a-z\u00df-\u00ff]+(?:['\u2019-][A-Z]?[a-z\u00df-\u00ff]+)?"
_NAMES = rf"{_NAME}(?:[ \t]+{_NAME}){{0,2}}"
_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof|Herr|Frau|Mme|M)\.?[ \t]+)?"
_GREETING = re.compile(
    r"(?<![A-Za-z0-9])(?:Hi|Hello|Hey|Dear|Greetings|Good (?:morning|afternoon|evening)|"
    r"Hallo|Liebe[rs]?|Sehr geehrte[rs]?|Bonjour|Hola|Ciao)[ \t]*,?[ \t]+"
    + _TITLE
    + rf"(?P<name>{_NAMES})(?=[ \t]*(?:[,!:;.\n]|\\n|$))"
)
_SIGN_OFF = re.compile(
    r"(?i:thanks|thank you|many thanks|thx|cheers|best|best regards|kind regards|regards|"
    r"warm regards|sincerely|yours(?: truly| sincerely)?|all the best|viele gr(?:ü|ue)(?:ß|ss)e|"
    r"mit freundlichen gr(?:ü|ue)(?:ß|ss)en|gr(?:ü|ue)(?:ß|ss)e|cordialement)"
    r"(?:[ \t]*[,.!-]+[ \t]*(?:\n|\\n)?|[ \t]*(?:\n|\\n))[ \t]*"
    + _TITLE
    + rf"(?P<name>{_NAMES})(?=[.,!]?[ \t]*(?:\n|\\n|$|[\"'<)\]}}]))"
)
_INTRO = re.compile(
    r"(?i:my name is|my name's|ich hei(?:ß|ss)e|je m'appelle)[ \t]+" + rf"(?P<name>{_NAMES})\b"
)
# Words that take a greeting's or signature's place but name no one.
_STOP_WORDS = """
    team all everyone everybody there folks guys friends friend support sir madam customer
    customers user users world again both colleagues bot assistant agent y'all you the your
    our this that sales service services billing admin hello thanks regards best kind dear
    hi hey morning afternoon evening well so just ok okay yes no please sorry great good nice
    welcome happy in on for from and or but it its we they
"""
_NOT_NAMES = frozenset(_STOP_WORDS.split())


def _is_name(value: str) -> bool:
    tokens = value.split()
    return bool(tokens) and all(t.lower() not in _NOT_NAMES for t in tokens)


# Cheap tests for each positional rule: most strings have none of these words.
_MAYBE = (
    re.compile(r"\b(?:Hi|Hello|Hey|Dear|Greetings|Good|Hallo|Liebe|Sehr|Bonjour|Hola|Ciao)\b"),
    re.compile(
        r"(?i)\b(?:thank|thx|cheers|best|kind|warm|regards|sincerely|yours|all the|viele|mit|"
        r"gr(?:ü|ue)|cordialement)"
    ),
    re.compile(r"(?i)\bmy name|\bich hei|\bje m'appelle"),
)


def _person_spans(text: str) -> list[Span]:
    spans = []
    for maybe, rx in zip(_MAYBE, (_GREETING, _SIGN_OFF, _INTRO), strict=True):
        if not maybe.search(text):
            continue
        for m in rx.finditer(text):
            if _is_name(m.group("name")):
                spans.append(Span(m.start("name"), m.end("name"), "PERSON", "prose:position"))
    return spans


_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_BEFORE_EMAIL = re.compile(rf"(?P<name>{_NAMES})[ \t]*(?:<|\(|\[|:)?[ \t]*$")
_AFTER_EMAIL = re.compile(rf"^[ \t]*(?:>[ \t]*)?[(\[\-][ \t]*(?P<name>{_NAMES})")


def _local_tokens(email: str) -> set[str]:
    return {t for t in re.split(r"[^a-z]+", email.partition("@")[0].lower()) if t}


def _in_local(token: str, local: set[str]) -> bool:
    """``Maria`` matches ``maria.s``, ``mariaschmidt`` and the initial in ``m.schmidt``."""
    t = token.lower()
    return any((len(p) > 1 and t in p) or p == t[:1] for p in local)


class _Beside(NamedTuple):
    start: int
    end: int
    name: str


def _beside(text: str, m: re.Match[str]) -> list[_Beside]:
    """Capitalized words right before an email (``Maria Schmidt <``) or right after it."""
    found = []
    offset = max(0, m.start() - 60)
    before = _BEFORE_EMAIL.search(text[offset : m.start()])
    if before is not None:
        found.append(
            _Beside(offset + before.start("name"), offset + before.end("name"), before["name"])
        )
    after = _AFTER_EMAIL.match(text[m.end() : m.end() + 60])
    if after is not None:
        found.append(
            _Beside(m.end() + after.start("name"), m.end() + after.end("name"), after["name"])
        )
    return found


def _names_beside_emails(text: str) -> list[Span]:
    out = []
    for m in _EMAIL.finditer(text):
        local = _local_tokens(m.group())
        for b in _beside(text, m):
            spans = [(t.start() + b.start, t.end() + b.start) for t in re.finditer(r"\S+", b.name)]
            hits = [i for i, t in enumerate(b.name.split()) if _in_local(t, local)]
            # Words before the first token the address confirms ("Contact") are not the name.
            if hits and _is_name(b.name) and any(len(p) > 1 for p in local):
                out.append(Span(spans[hits[0]][0], spans[-1][1], "PERSON", "prose:beside-email"))
    return out


# USPS street suffixes (Publication 28, appendix C1; Faker's en_US list is the same) and
# their common abbreviations.
_STREET_SUFFIXES = """
    Alley Avenue Bend Bluff Bluffs Branch Bridge Brook Brooks Burg Burgs Bypass Camp Canyon
    Cape Causeway Center Centers Circle Circles Cliff Cliffs Club Common Commons Corner Corners
    Course Court Courts Cove Coves Creek Crescent Crest Crossing Crossroad Curve Dale Dam
    Divide Drive Drives Estate Estates Expressway Extension Extensions Fall Falls Ferry Field
    Fields Flat Flats Ford Fords Forest Forge Forges Fork Forks Fort Freeway Garden Gardens
    Gateway Glen Glens Green Greens Grove Groves Harbor Harbors Haven Heights Highway Hill
    Hills Hollow Inlet Island Islands Isle Junction Junctions Key Keys Knoll Knolls Lake
    Lakes Land Landing Lane Light Lights Loaf Lock Locks Lodge Loop Mall Manor Manors Meadow
    Meadows Mews Mill Mills Mission Motorway Mount Mountain Mountains Neck Orchard Oval
    Overpass Park Parks Parkway Parkways Pass Passage Path Pike Pine Pines Place Plain Plains
    Plaza Point Points Port Ports Prairie Radial Ramp Ranch Rapid Rapids Rest Ridge Ridges
    River Road Roads Route Row Rue Run Shoal Shoals Shore Shores Skyway Spring Springs Spur
    Spurs Square Squares Station Stravenue Stream Street Streets Summit Terrace Throughway
    Trace Track Trafficway Trail Trailer Tunnel Turnpike Underpass Union Unions Valley Valleys
    Via Viaduct View Views Village Villages Ville Vista Walk Walks Wall Way Ways Well Wells
    St Ave Rd Blvd Ln Dr Ct Pl Ter Cir Pkwy Hwy Sq Trl Close
"""
_US_STREET = re.compile(
    r"(?<![\w#.-])\d{1,6}[ \t]+(?:[NSEW]\.?[ \t]+)?(?:[A-Z][a-z]+[ \t]+){1,3}"
    rf"(?:{'|'.join(sorted(_STREET_SUFFIXES.split(), key=len, reverse=True))})\b\.?"
    r"(?:,?[ \t]+(?:Apt|Apartment|Suite|Ste|Unit|Floor|Fl|#)\.?[ \t]*#?\w{1,6}\b)?"
)
_EU_STREET = re.compile(
    r"(?<![\w-])[A-Z\u00c4\u00d6\u00dc][a-z\u00df-\u00ff]{2,}(?:-[A-Z][a-z\u00df-\u00ff]+)*"
    r"(?:stra(?:ß|ss)e|str\.|weg|platz|allee|gasse|ufer|chaussee)"
    r"[ \t]+\d{1,4}[a-z]?\b"
)
_STATE_ZIP = re.compile(r"(?<=,)[ \t]*[A-Z]{2}[ \t]+(?P<zip>\d{5}(?:-\d{4})?)(?![\d-])")


def _address_spans(text: str) -> list[Span]:
    spans = [
        Span(m.start(), m.end(), "STREET_ADDRESS", "prose:street", "street")
        for rx in (_US_STREET, _EU_STREET)
        for m in rx.finditer(text)
    ]
    for m in _STATE_ZIP.finditer(text):
        spans.append(Span(m.start("zip"), m.end("zip"), "ZIP_CODE", "prose:zip", "zip"))
    return spans


@cache
def offline_suffixes() -> tldextract.TLDExtract:
    """The public-suffix reader on its bundled list only: no download, no cache written."""
    import tldextract

    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def _valid_domain(domain: str) -> bool:
    parts = offline_suffixes()(domain)
    return bool(parts.suffix and parts.domain)


def email_spans(text: str) -> list[Span]:
    """Emails with strict boundaries (``?to=jo@x.io`` gives ``jo@x.io``) on a real suffix."""
    return [
        Span(m.start(), m.end(), "EMAIL_ADDRESS", "email", "email")
        for m in _EMAIL.finditer(text)
        if _valid_domain(m.group().rpartition("@")[2])
    ]


_BRACKET_AT = r"[ \t]*(?:\[at\]|\(at\)|\{at\}|<at>)[ \t]*"
_PLAIN_AT = r"[ \t]+at[ \t]+"
_DOT = r"(?:[ \t]*(?:\[dot\]|\(dot\)|\{dot\}|<dot>)[ \t]*|[ \t]+dot[ \t]+|\.)"
_OBFUSCATED = re.compile(
    r"(?i)(?<![\w.+-])(?P<local>[a-z0-9][a-z0-9._%+-]{0,63})"
    rf"(?P<at>{_BRACKET_AT}|{_PLAIN_AT}|@)"
    rf"(?P<domain>[a-z0-9][a-z0-9-]{{0,62}}(?:{_DOT}[a-z0-9][a-z0-9-]{{0,62}})*{_DOT}[a-z]{{2,24}})"
    r"(?![\w-])"
)
_SPELLED_DOT = re.compile(r"(?i)\[dot\]|\(dot\)|\{dot\}|<dot>|[ \t]dot[ \t]")


class Obfuscated(NamedTuple):
    """An email written with words for ``@`` and ``.``: where, and the plain address."""

    start: int
    end: int
    email: str


def deobfuscate_email(value: str) -> str:
    """``jo [at] acme [dot] io`` -> ``jo@acme.io`` (values with a plain ``@.`` unchanged)."""
    m = _OBFUSCATED.fullmatch(value.strip())
    if m is None:
        return value
    domain = re.sub(_DOT, ".", m.group("domain"))
    return f"{m.group('local')}@{domain}"


def reobfuscate(surface: str, email: str) -> str:
    """``email`` written the way ``surface`` (an obfuscated email) writes ``@`` and ``.``."""
    m = _OBFUSCATED.fullmatch(surface)
    if m is None:
        return email
    dots = [d.group() for d in re.finditer(_DOT, m["domain"]) if d.group() != "."]
    local, _, domain = email.partition("@")
    return local + m["at"] + (dots[0] if dots else ".").join(domain.split("."))


def obfuscated_emails(text: str) -> list[Obfuscated]:
    """Emails written as ``name at domain dot com`` or with bracketed ``[at]``/``[dot]``.

    A plain `` at `` or ``@`` counts only with a spelled dot (else it is prose, or an
    ordinary email found elsewhere), and the domain must end in a public suffix.
    """
    lowered = text.lower()
    if "at" not in lowered or (
        "dot" not in lowered
        and "[at]" not in lowered
        and "(at)" not in lowered
        and "{at}" not in lowered
        and "<at>" not in lowered
    ):
        return []
    out = []
    for m in _OBFUSCATED.finditer(text):
        bracketed = "[" in m["at"] or "(" in m["at"] or "{" in m["at"] or "<" in m["at"]
        if not bracketed and not _SPELLED_DOT.search(m["domain"]):
            continue
        email = deobfuscate_email(m.group())
        if _valid_domain(email.rpartition("@")[2]):
            out.append(Obfuscated(m.start(), m.end(), email))
    return out


def detect_prose(text: str) -> list[Span]:
    """Names in greeting, signature and email-side positions, addresses, obfuscated emails."""
    spans = [
        Span(o.start, o.end, "EMAIL_ADDRESS", "email:obfuscated", "email")
        for o in obfuscated_emails(text)
    ]
    if re.search(r"[A-Z][a-z]", text):
        spans += _person_spans(text)
        if "@" in text:
            spans += _names_beside_emails(text)
        if re.search(r"\d", text):
            spans += _address_spans(text)
    return spans
