"""Pattern PII in text: presidio's regex recognizers (with validators) and phone numbers.

presidio runs on its ``NoOpNlpEngine``, so no spaCy model is loaded or downloaded. Only the
recognizers whose validators make them precise are registered: credit card (Luhn), IBAN
(checksum), IP (parsed) and US SSN (invalid groups rejected). Emails use a stricter regex
of our own (presidio's takes ``to=`` of a query string into the address, or misses it)
validated on the bundled public-suffix list. Phones are found here with
``phonenumbers`` (the library presidio's PhoneRecognizer wraps) on cheap regex candidates:
presidio's recognizer runs the library's matcher over the whole text once per region and
costs ~5 ms per call, which is most of a scrub otherwise.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

import phonenumbers

from deploysim.privacy._prose import email_spans
from deploysim.privacy._types import EntityType, Kind, Span

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

__all__ = ["PhoneParts", "detect_pii", "is_allowed", "is_phone", "parse_phone", "phone_digits"]

_PRESIDIO_ENTITIES: dict[str, tuple[EntityType, Kind]] = {
    "CREDIT_CARD": ("CREDIT_CARD", "card"),
    "IBAN_CODE": ("IBAN_CODE", "iban"),
    "IP_ADDRESS": ("IP_ADDRESS", "ip"),
    "US_SSN": ("US_SSN", "ssn"),
}
# presidio scores the SSN pattern without separators (and its other weak shapes) at 0.05;
# 0.5 keeps the 3-2-4 shape, and compact SSNs are caught by the `ssn` field hint instead.
_MIN_SCORE = 0.5

# Publicly documented test values: replacing them would break test-mode environments that
# depend on them, and they identify no one.
_TEST_CARDS = frozenset(
    {
        "4242424242424242",
        "4000056655665556",
        "4111111111111111",
        "5555555555554444",
        "5105105105105100",
        "378282246310005",
        "371449635398431",
        "6011111111111117",
        "3056930009020004",
        "36227206271667",
        "3566002020360505",
        "4012888888881881",
    }
)
_ROLE_MAILBOXES = re.compile(
    r"(?i)^(?:no-?reply|do-?not-?reply|mailer-daemon|postmaster|notifications?|git)@"
)


def is_allowed(kind: Kind, value: str) -> bool:
    """True for values that look private but are public by construction (kept as they are)."""
    if kind == "card":
        return re.sub(r"\D", "", value) in _TEST_CARDS
    if kind == "email":
        return bool(_ROLE_MAILBOXES.match(value))
    if kind == "ip":
        try:
            ip = ipaddress.ip_address(value)
        except ValueError:
            return True
        return (
            ip.is_loopback
            or ip.is_unspecified
            or ip.is_multicast
            or (ip.version == 4 and ip.is_reserved)
            or str(ip) in {"255.255.255.255", "8.8.8.8", "8.8.4.4", "1.1.1.1"}
            or any(ip in net for net in _DOC_NETS)
        )
    return False


_DOC_NETS = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


@cache
def _analyzer() -> AnalyzerEngine:
    # Imported here: presidio pulls in spaCy (~1.5 s), which `import deploysim` must not pay.
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        IpRecognizer,
        UsSsnRecognizer,
    )

    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        CreditCardRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        UsSsnRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


# presidio's recognizers all need one of these; most strings in a trace have none.
_MAYBE_PII = re.compile(r"@|\d(?:[ ./-]?\d){2}|\d\.\d{1,3}\.\d|[0-9a-fA-F]:[0-9a-fA-F]*:")
# What presidio's recognizers (cards, IBANs, IPs, SSNs) need at the least.
_MAYBE_PRESIDIO = re.compile(r"\d{3}|\d\.\d{1,3}\.\d|[0-9a-fA-F]:[0-9a-fA-F]*:")


def _presidio_spans(text: str) -> list[Span]:
    if not _MAYBE_PRESIDIO.search(text):
        return []
    results: list[Any] = _analyzer().analyze(
        text, language="en", entities=list(_PRESIDIO_ENTITIES), score_threshold=_MIN_SCORE
    )
    spans: list[Span] = []
    for r in results:
        etype, kind = _PRESIDIO_ENTITIES[r.entity_type]
        if not is_allowed(kind, text[r.start : r.end]):
            spans.append(Span(r.start, r.end, etype, f"presidio:{r.entity_type}", kind))
    return spans


# Candidates start at a boundary, or right after an escaped newline ("\\n") in logged text.
_START = r"(?:(?<![\w+./-])|(?<=\\[nrt]))"
# Groups of 1-8 digits: national plans differ (German numbers are written "030 12345678"
# or "07031 123456", French "06 12 34 56 78"); phonenumbers decides what is a number.
_PHONE_CANDIDATE = re.compile(
    _START
    + r"""
    (?:
        (?:\+|00)\d{1,3}[ \t.-]?(?:\(0?\d{0,4}\)[ \t.-]?)?\d{1,8}(?:[ \t./-]\d{1,8}){0,4}
      | (?:1[ \t.-])?\(\d{2,5}\)[ \t.-]?\d{2,8}(?:[ \t.-]\d{2,8}){0,3}
      | (?:1[ \t.-])?\d{2,5}(?:[ \t./-]\d{2,8}){1,4}
    )
    (?:[ ]?(?:x|ext\.?)[ ]?\d{1,6})?
    (?!\w|-\d|[.:/]\d)
    """,
    re.VERBOSE,
)
_DATE_LIKE = re.compile(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$")
_NANP_LAYOUT = re.compile(r"^(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}$")
_EXTENSION = re.compile(r"[ ]?(?:x|ext\.?)[ ]?\d{1,6}$")
_NATIONAL_REGIONS = (
    "GB",
    "DE",
    "FR",
    "IT",
    "ES",
    "NL",
    "AU",
    "IN",
    "BR",
    "JP",
    "IE",
    "CH",
    "AT",
    "BE",
    "PL",
    "SE",
)
_TRUNK_IN_BRACKETS = re.compile(r"\(0\)")


def _nanp(digits: str) -> bool:
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return len(digits) == 10 and digits[0] in "23456789" and digits[3] in "23456789"


def _national_match(body: str) -> bool:
    """Whether phonenumbers' matcher reads all of ``body`` as one valid national number."""
    digits = re.sub(r"\D", "", body)
    for region in _NATIONAL_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(
            body, region, leniency=phonenumbers.Leniency.VALID
        ):
            if re.sub(r"\D", "", match.raw_string) == digits:
                return True
    return False


def _international(digits: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None


def is_phone(candidate: str, *, hinted: bool = False) -> bool:
    """Whether ``candidate`` (a phone-shaped string) is a phone number.

    With ``+``/``00`` it must be valid for its country code (a ``(0)`` trunk is allowed);
    with a leading trunk ``0`` phonenumbers' matcher must read it as a valid number in one
    of a few national numbering plans; otherwise it must fit the North American plan (area
    code and exchange starting 2-9). ``hinted`` (the field is called ``phone``) also accepts
    compact digits, including international numbers written without the ``+``.
    """
    body = _TRUNK_IN_BRACKETS.sub("", _EXTENSION.sub("", candidate.strip()))
    digits = re.sub(r"\D", "", body)
    if not 7 <= len(digits) <= 15 or _DATE_LIKE.search(body):
        return False
    if not hinted and not re.search(r"[\s()./-]", body) and not body.startswith("+"):
        return False  # compact digit runs are ids and timestamps far more often than phones
    if body.startswith(("+", "00")):
        number = _international(digits[2:] if body.startswith("00") else digits)
        if number is None:
            return False
        if number.country_code == 1:  # the plan's structure; area codes get assigned yearly
            return _nanp(phonenumbers.national_significant_number(number))
        return phonenumbers.is_valid_number(number)
    if digits.startswith("0"):
        # with the trunk 0, national numbers have 9 to 12 digits
        return len(digits) >= 9 and _national_match(body)
    if _nanp(digits) and (hinted or bool(_NANP_LAYOUT.match(body))):
        return True
    if hinted and len(digits) >= 10:  # "4915112345678" in a `phone` field: E.164 without +
        number = _international(digits)
        return (
            number is not None and number.country_code != 1 and phonenumbers.is_valid_number(number)
        )
    return False


class PhoneParts(NamedTuple):
    """A phone number as country code, national significant number and trunk prefix."""

    cc: str
    nsn: str
    trunk: str

    def variants(self) -> list[str]:
        """The digit strings this number may be written as: E.164, 00-prefixed, national."""
        e164 = self.cc + self.nsn
        out = [e164, "00" + e164, self.nsn, self.trunk + self.nsn]
        return list(dict.fromkeys(d for d in out if len(d) >= 7))


def parse_phone(value: str) -> PhoneParts | None:
    """Split a phone number (as :func:`is_phone` accepts it) into its parts."""
    body = _TRUNK_IN_BRACKETS.sub("", _EXTENSION.sub("", value.strip()))
    digits = re.sub(r"\D", "", body)
    if body.startswith(("+", "00")):
        regions: tuple[str | None, ...] = (None,)
        body = "+" + (digits[2:] if body.startswith("00") else digits)
    elif digits.startswith("0"):
        regions = _NATIONAL_REGIONS
    elif _nanp(digits):
        regions = ("US",)
    elif len(digits) >= 10:  # E.164 digits without the +, from a `phone` field
        regions = (None,)
        body = "+" + digits
    else:
        return None
    for region in regions:
        try:
            num = phonenumbers.parse(body, region)
        except phonenumbers.NumberParseException:
            continue
        if region is None or region == "US" or phonenumbers.is_valid_number(num):
            found = phonenumbers.region_code_for_number(num) or region
            trunk = phonenumbers.ndd_prefix_for_region(found, True) if found else None
            nsn = phonenumbers.national_significant_number(num)
            return PhoneParts(str(num.country_code), nsn, trunk or "")
    return None


def phone_digits(value: str) -> str:
    """The digits of a phone number as written, without any extension."""
    return re.sub(r"\D", "", _EXTENSION.sub("", value.strip()))


_COMPACT_PHONE = re.compile(_START + r"1?\d{10}(?!\w|-\d|[.:]\d)")
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|call|tel|telephone|mobile|cell|fax|sms|whatsapp|text me|reach me)\b"
    r"[^\n]{0,25}$"
)


def _phone_spans(text: str) -> list[Span]:
    spans = []
    for m in _PHONE_CANDIDATE.finditer(text):
        if is_phone(m.group()):
            start, end = m.span()
            end = start + len(_EXTENSION.sub("", m.group()))
            spans.append(Span(start, end, "PHONE_NUMBER", "phonenumbers", "phone"))
    # Compact numbers only after a phone word: bare 10-digit runs are mostly ids.
    for m in _COMPACT_PHONE.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        if _PHONE_CONTEXT.search(before) and is_phone(m.group(), hinted=True):
            spans.append(Span(m.start(), m.end(), "PHONE_NUMBER", "phonenumbers", "phone"))
    return spans


# Cards presidio's regex misses (19-digit Visa, 12-digit Maestro, 15-digit JCB): Luhn, a
# known issuer prefix, and either 4-digit grouping or a card word just before.
_CARD = re.compile(_START + r"\d(?:[ -]?\d){11,18}(?![\w-]|[.:]\d)")
_CARD_IIN = re.compile(r"^(?:4|5[0-8]|2[2-7]|3[0-9]|6[0-9]|2131|1800)")
_CARD_GROUPED = re.compile(r"^\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}$|^\d{4}([ -])\d{6}\2\d{4,5}$")
_CARD_CONTEXT = re.compile(
    r"(?i)\b(?:cards?|cc|credit|debit|visa|master\s?card|amex|american express|maestro|jcb|"
    r"discover|diners|pan)\b[^\n]{0,30}$"
)


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card_spans(text: str) -> list[Span]:
    spans = []
    for m in _CARD.finditer(text):
        value = m.group()
        digits = re.sub(r"\D", "", value)
        if not (_luhn(digits) and _CARD_IIN.match(digits)) or is_allowed("card", value):
            continue
        before = text[max(0, m.start() - 40) : m.start()]
        if _CARD_GROUPED.match(value) or _CARD_CONTEXT.search(before):
            spans.append(Span(m.start(), m.end(), "CREDIT_CARD", "luhn", "card"))
    return spans


_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def _ipv6_spans(text: str) -> list[Span]:
    spans = []
    for m in _IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(m.group())
        except ValueError:
            continue
        if not is_allowed("ip", m.group()):
            spans.append(Span(m.start(), m.end(), "IP_ADDRESS", "ipaddress", "ip"))
    return spans


def _email_spans(text: str) -> list[Span]:
    if "@" not in text:
        return []
    return [s for s in email_spans(text) if not is_allowed("email", text[s.start : s.end])]


def detect_pii(text: str) -> list[Span]:
    """Spans of emails, cards, IBANs, IPs, SSNs and phones in ``text`` (may overlap)."""
    if not _MAYBE_PII.search(text):
        return []
    spans = _email_spans(text) + _presidio_spans(text) + _phone_spans(text) + _card_spans(text)
    if ":" in text:
        spans += _ipv6_spans(text)
    return spans
