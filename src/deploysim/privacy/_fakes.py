"""Format-preserving fake values, one generator per kind.

Every generator gets a ``random.Random`` and a ``Faker`` already seeded from
``HMAC(dataset key, kind, value, attempt)`` (see :mod:`deploysim.privacy._pseudonymizer`),
so the same real value always draws the same fake. Formats survive: layouts (spacing,
dashes, parentheses, case) are kept, cards pass Luhn, IBAN checksums hold, phones stay in
the fictional 555-01XX block (NANP) or valid for their country, domains move under the
reserved ``.example`` TLD, and the known prefix of a secret is kept.
"""

from __future__ import annotations

import ipaddress
import random
import re
import string
from collections.abc import Callable

import phonenumbers
from faker import Faker

from deploysim.privacy._pii import parse_phone, phone_digits

__all__ = [
    "NameLookup",
    "fake_card",
    "fake_domain",
    "fake_email",
    "fake_iban",
    "fake_ip",
    "fake_phone",
    "fake_secret",
    "fake_ssn",
    "fake_street",
    "fake_street2",
    "fake_username",
    "fake_zip",
    "is_reserved_domain",
    "luhn_digit",
    "match_case",
    "render_digits",
]

# Maps a lower-case name token to its fake (lower-case), or None when it is no known name.
NameLookup = Callable[[str], str | None]


def match_case(surface: str, fake: str) -> str:
    """``fake`` written in the case style of ``surface`` (``MIA`` -> ``SOFIA``)."""
    letters = [c for c in surface if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return fake.upper()
    if letters and all(c.islower() for c in letters):
        return fake.lower()
    if letters and letters[0].isupper():
        return fake[:1].upper() + fake[1:]
    return fake


def render_digits(surface: str, digits: str) -> str:
    """Write ``digits`` into the digit positions of ``surface``, keeping its punctuation.

    If ``surface`` has fewer digit positions, the extra digits are dropped; if more, the
    remaining positions keep their digits (callers pass equal lengths).
    """
    it = iter(digits)
    return "".join(next(it, c) if c.isdigit() else c for c in surface)


def _random_like(rng: random.Random, text: str) -> str:
    """Each letter and digit replaced by a random one of its class; the rest kept."""
    out = []
    for c in text:
        if c.isdigit():
            out.append(rng.choice(string.digits))
        elif c in string.ascii_lowercase:
            out.append(rng.choice(string.ascii_lowercase))
        elif c in string.ascii_uppercase:
            out.append(rng.choice(string.ascii_uppercase))
        else:
            out.append(c)
    return "".join(out)


def luhn_digit(body: str) -> str:
    """The Luhn check digit that makes ``body + digit`` valid."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def fake_card(rng: random.Random, real: str) -> str:
    """Same length, layout and brand prefix (first two digits); random body; Luhn valid."""
    digits = re.sub(r"\D", "", real)
    body = digits[:2] + "".join(rng.choice(string.digits) for _ in range(len(digits) - 3))
    return render_digits(real, body + luhn_digit(body))


def fake_ssn(rng: random.Random, real: str) -> str:
    """A well-formed SSN (area not 000/666/9xx, group and serial not zero) in the layout."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    digits = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    return render_digits(real, digits)


def fake_zip(rng: random.Random, real: str, keep: int = 3) -> str:
    """Keep the first ``keep`` digits (the region, as HIPAA's safe harbour does); random rest."""
    digits = re.sub(r"\D", "", real)
    new = digits[:keep] + "".join(rng.choice(string.digits) for _ in digits[keep:])
    return render_digits(real, new)


def _nanp_fake(rng: random.Random) -> str:
    area = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    if area[1:] == "11":
        area = area[0] + "21"
    return f"{area}55501{rng.randint(0, 99):02d}"  # 555-0100..0199: reserved for fiction


def fake_phone(rng: random.Random, real: str) -> str:
    """Same layout and country; NANP numbers go to 555-01XX, others stay valid numbers."""
    own = phone_digits(real)
    parts = parse_phone(real)
    if parts is None:  # a hinted value we cannot read: random digits in the same layout
        return render_digits(real, "".join(rng.choice(string.digits) for _ in own))
    if parts.cc == "1":
        new_nsn = _nanp_fake(rng)
    else:
        new_nsn = parts.nsn
        for _ in range(50):
            new_nsn = parts.nsn[:2] + "".join(rng.choice(string.digits) for _ in parts.nsn[2:])
            candidate = phonenumbers.parse("+" + parts.cc + new_nsn)
            if new_nsn != parts.nsn and phonenumbers.is_valid_number(candidate):
                break
    # Every way of writing the number ends with the NSN: replace that tail, keep the prefix.
    return render_digits(real, own[: len(own) - len(parts.nsn)] + new_nsn)


def fake_iban(rng: random.Random, real: str) -> str:
    """Same country, bank and branch; random account; check digits recomputed (schwifty)."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    compact = re.sub(r"[\s-]", "", real).upper()
    try:
        iban = IBAN(compact, allow_invalid=True)
        for _ in range(200):
            account = _random_like(rng, iban.account_code)
            new = IBAN.generate(
                iban.country_code, iban.bank_code, account, branch_code=iban.branch_code
            )
            try:
                IBAN(str(new), validate_bban=True)
            except SchwiftyException:
                continue
            if str(new) != compact:
                return _render_alnum(real, str(new))
    except SchwiftyException:
        pass  # a country schwifty does not know: fall through to the generic mod-97 rule
    body = compact[:4] + _random_like(rng, compact[4:])
    return _render_alnum(real, _with_iban_check(body))


def _with_iban_check(iban: str) -> str:
    rearranged = iban[4:] + iban[:2] + "00"
    number = int("".join(str(int(c, 36)) for c in rearranged))
    return f"{iban[:2]}{98 - number % 97:02d}{iban[4:]}"


def _render_alnum(surface: str, compact: str) -> str:
    it = iter(compact)
    out = "".join(next(it, c) if c.isalnum() else c for c in surface)
    return out if surface.upper() == surface else out.lower() if surface.islower() else out


_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def fake_ip(rng: random.Random, real: str) -> str:
    """RFC 1918 -> 10.x.y.z; other IPv4 -> TEST-NET (RFC 5737); IPv6 -> 2001:db8::/32."""
    ip = ipaddress.ip_address(real)
    if ip.version == 6:
        return str(ipaddress.IPv6Address((0x20010DB8 << 96) | rng.getrandbits(96)))
    if any(ip in net for net in _RFC1918):
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{net}.{rng.randint(1, 254)}"


_SECRET_PREFIX = re.compile(
    r"^(?:sk-ant-(?:api|admin)\d\d-|sk-(?:proj|svcacct|admin)-|sk-|[sr]k_(?:live|test)_|"
    r"gh[pousr]_|github_pat_|glpat-|xox[abposr]-|AKIA|ASIA|ABIA|ACCA|AIza|hf_|npm_|SG\.|"
    r"-----BEGIN [A-Z0-9 ]+-----)"
)
_PEM_FOOTER = re.compile(r"-----END [A-Z0-9 ]+-----$")


def fake_secret(rng: random.Random, real: str) -> str:
    """Known prefix kept; every other letter and digit random within its class."""
    m = _SECRET_PREFIX.match(real)
    prefix = m.group() if m else ""
    rest = real[len(prefix) :]
    footer = _PEM_FOOTER.search(rest)
    tail = footer.group() if footer else ""
    body = rest[: len(rest) - len(tail)]
    return prefix + _random_like(rng, body) + tail


_RESERVED_DOMAIN = re.compile(
    r"(?i)(?:^|\.)(?:example(?:\.(?:com|org|net))?|test|invalid|localhost|local)$"
)


def is_reserved_domain(domain: str) -> bool:
    """RFC 2606 / 6761 names (``example.com``, ``*.example``, ``*.test``...): already fake."""
    return bool(_RESERVED_DOMAIN.search(domain))


def fake_domain(faker: Faker, real: str) -> str:
    """A consistent name under the reserved ``.example`` TLD (``acme.io`` -> ``lopez.example``)."""
    labels = real.split(".")
    words = [re.sub(r"[^a-z0-9-]", "", faker.domain_word()) or "host" for _ in labels[:-1]]
    return ".".join([*words, "example"])


_TOKENS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+|[^A-Za-z\d]+")


def _rewrite_identifier(
    rng: random.Random, faker: Faker, text: str, names: NameLookup, *, keep_digits: bool
) -> str:
    """Name tokens -> their fakes; other words -> random words; digits -> random digits."""
    out = []
    for tok in _TOKENS.findall(text):
        if tok[0].isalpha():
            fake = names(tok.lower())
            if fake is None:
                fake = re.sub(
                    r"[^a-z]",
                    "",
                    (faker.last_name() if len(tok) > 3 else faker.first_name()).lower(),
                )
            out.append(match_case(tok, fake))
        elif tok[0].isdigit() and not keep_digits:
            out.append("".join(rng.choice(string.digits) for _ in tok))
        else:
            out.append(tok)
    return "".join(out)


def fake_email(
    rng: random.Random, faker: Faker, real: str, names: NameLookup, domains: Callable[[str], str]
) -> str:
    """The local part follows its owner's fake name; the domain maps through ``domains``."""
    local, _, domain = real.rpartition("@")
    new_local = _rewrite_identifier(rng, faker, local, names, keep_digits=False)
    return f"{new_local}@{domains(domain)}"


def fake_username(rng: random.Random, faker: Faker, real: str, names: NameLookup) -> str:
    """Like an email's local part: name tokens follow the person, digits are redrawn."""
    if "@" in real:
        return fake_email(rng, faker, real, names, lambda d: d)
    return _rewrite_identifier(rng, faker, real, names, keep_digits=False)


def fake_street(faker: Faker, real: str) -> str:
    """A Faker street, same house-number length (``975 Sunset Drive`` -> ``441 Kelly Loop``)."""
    m = re.match(r"\d+", real)
    number = str(faker.random_int(1, 9)) + "".join(
        str(faker.random_int(0, 9)) for _ in range(len(m.group()) - 1 if m else 2)
    )
    return match_case(real, f"{number} {faker.street_name()}")


def fake_street2(rng: random.Random, faker: Faker, real: str) -> str:
    """``Suite 217`` -> ``Suite 583``: words kept, digits redrawn; Faker's when no digits."""
    if not re.search(r"\d", real):
        return match_case(real, faker.secondary_address())
    return re.sub(r"\d", lambda _: rng.choice(string.digits), real)
