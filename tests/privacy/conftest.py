from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from deploysim.privacy import Pseudonymizer, ScrubResult, scrub_traces
from deploysim.traces import (
    Message,
    Reasoning,
    Text,
    ToolCall,
    ToolResult,
    ToolSpec,
    Trace,
    TraceSource,
    import_traces,
    load_tools_file,
)

KEY = bytes(range(32))

# Planted private values of the synthetic support trace. Each must be gone after scrubbing.
JWT = (
    "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9."
    "eyJzdWIiOiAidS0xIiwgImVtYWlsIjogImpvbmF0aGFuLnJleWVzQGFjbWUtc2hvcC5pbyIsICJuYW1lIjogIkpv"
    "bmF0aGFuIFJleWVzIn0.SXtw8zaMZ_uHRmZ9F8XkT3T6CBLRYf_9dEQyJLVcL68"
)
PRIVATE = {
    "first": "Jonathan",
    "last": "Reyes",
    "email": "jonathan.reyes@acme-shop.io",
    "phone": "+1 (415) 867-5309",
    "phone_digits": "4158675309",
    "card": "4539 1488 0343 6467",
    "iban": "DE89 3704 0044 0532 0130 00",
    "ssn": "536-22-1847",
    "ip": "81.2.69.142",
    "dob": "1986-07-14",
    "street": "4821 Maple Grove Road",
    "zip": "94110",
    "openai": "sk-proj-Xa81KqLm29ZpVb7TnWc3Rd5Yf0HgJe4Ls6Pu",
    "github": "ghp_R8aK2mQ9xV4bN7cT1yW6zL3pD5fG0hJ8sE2u",
    "aws": "AKIAZ7Q4MDL2TXW9KPRN",
    "db_password": "S3cr3t-Pass!2026",
    "env_password": "hunter2Secret",
    "jwt": JWT,
    "domain": "acme-shop.io",
}
# Decoys: look a bit like private data, must survive byte for byte.
DECOYS = [
    "call_7f3a9c2e1b",
    "3f786850e387550fdab836ed7e6dc881de23001b",
    "9b2c4d6e-1f3a-4b5c-8d7e-6f5a4b3c2d1e",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "v1.2.3",
    "2024-05-20T10:00:00Z",
    "SKU-48213",
    "#W4923227",
    "https://docs.python.org/3/library/json.html",
    "cus_9s6XKzkNRiz8i3",
    "lookup_customer",
    "run_shell",
    "4768869376",
    "1773480413",
    "noreply@github.com",
    "4242 4242 4242 4242",
]

TOOLS = [
    ToolSpec(
        name="lookup_customer",
        description="Look a customer up by email.",
        parameters={
            "type": "object",
            "properties": {"email": {"type": "string"}},
            "required": ["email"],
        },
    ),
    ToolSpec(
        name="run_shell",
        kind="shell",
        parameters={
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
    ),
]


def _customer() -> dict[str, object]:
    return {
        "customer_id": "cus_9s6XKzkNRiz8i3",
        "name": {"first_name": PRIVATE["first"], "last_name": PRIVATE["last"]},
        "email": PRIVATE["email"],
        "phone": "415-867-5309",
        "dob": PRIVATE["dob"],
        "ssn": PRIVATE["ssn"],
        "address": {
            "address1": PRIVATE["street"],
            "address2": "Apt 12",
            "city": "San Francisco",
            "state": "CA",
            "zip": PRIVATE["zip"],
        },
        "payment": {"card_number": PRIVATE["card"], "iban": PRIVATE["iban"], "brand": "visa"},
        "last_order": "#W4923227",
        "items": [{"name": "Bluetooth Speaker", "sku": "SKU-48213", "product_id": "4768869376"}],
        "test_card": "4242 4242 4242 4242",
    }


def make_trace(index: int = 0) -> Trace:
    """A support-agent trace holding every planted value and decoy, in every kind of field."""
    customer = _customer()
    args = json.dumps({"email": PRIVATE["email"]}, separators=(",", ":"))
    env = (
        f"OPENAI_API_KEY={PRIVATE['openai']}\nGITHUB_TOKEN={PRIVATE['github']}\n"
        f"AWS_ACCESS_KEY_ID={PRIVATE['aws']}\npassword={PRIVATE['env_password']}\n"
        f"DATABASE_URL=postgres://admin:{PRIVATE['db_password']}@db.internal.acme-shop.io:5432/app\n"
        "COMMIT=3f786850e387550fdab836ed7e6dc881de23001b\nVERSION=v1.2.3\n"
    )
    curl = f"curl -H 'Authorization: Bearer {JWT}' https://docs.python.org/3/library/json.html"
    messages = [
        Message(role="system", parts=[Text(text="You are a support agent. Release v1.2.3.")]),
        Message(
            role="user",
            name="Jonathan",
            parts=[
                Text(
                    text=f"Hi, I'm {PRIVATE['first']} {PRIVATE['last']}. My email is "
                    f"{PRIVATE['email'].upper()} and my phone is {PRIVATE['phone']}. "
                    f"Order #W4923227 from 2024-05-20T10:00:00Z. Card {PRIVATE['card']}."
                )
            ],
        ),
        Message(
            role="assistant",
            parts=[
                Reasoning(text=f"Look up {PRIVATE['first']}.", opaque="gAAAAB-encrypted-blob"),
                ToolCall(
                    id="call_7f3a9c2e1b",
                    name="lookup_customer",
                    arguments=json.loads(args),
                    raw_arguments=args,
                ),
            ],
        ),
        Message(
            role="tool",
            parts=[
                ToolResult(
                    call_id="call_7f3a9c2e1b", output=json.dumps(customer), name="lookup_customer"
                )
            ],
        ),
        Message(
            role="assistant",
            parts=[
                ToolCall(
                    id="call_88d1e0",
                    name="run_shell",
                    arguments={"command": "cat .env && " + curl},
                    raw_arguments=json.dumps({"command": "cat .env && " + curl}),
                )
            ],
        ),
        Message(
            role="tool",
            parts=[
                ToolResult(
                    call_id="call_88d1e0",
                    output=env + f"client {PRIVATE['ip']} noreply@github.com ts 1773480413",
                )
            ],
        ),
        Message(
            role="assistant",
            parts=[
                Text(
                    text=f"Thanks {PRIVATE['first']}! Your card ending 6467 is on file; "
                    "docs: https://docs.python.org/3/library/json.html (sha "
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855, "
                    "request 9b2c4d6e-1f3a-4b5c-8d7e-6f5a4b3c2d1e)."
                )
            ],
        ),
    ]
    attachment = "Customer note: call Jonathan Reyes at 415-867-5309."
    raw = {
        "messages": [
            {"role": "user", "content": messages[1].parts[0].text},  # type: ignore[union-attr]
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_7f3a9c2e1b",
                        "type": "function",
                        "function": {"name": "lookup_customer", "arguments": args},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_7f3a9c2e1b", "content": json.dumps(customer)},
        ],
        "attachments": {"a1b2c3d4e5f6": attachment},
        "sku": "SKU-48213",
    }
    return Trace(
        id=f"synthetic-{index}",
        source=TraceSource(format="canonical", path="synthetic.jsonl", index=index),
        metadata={"customer": {"name": "Jonathan Reyes", "email": PRIVATE["email"]}},
        tools=TOOLS,
        messages=messages,
        raw=raw,
    )


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture
def pz() -> Pseudonymizer:
    """A pseudonymizer with a fixed key."""
    return Pseudonymizer(KEY)


@pytest.fixture
def synthetic() -> Trace:
    """The synthetic support trace."""
    return make_trace()


class RealScrub:
    """Both real datasets, imported, and scrubbed once with one pseudonymizer."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.originals: dict[str, list[Trace]] = {}
        for name in ("tau-bench-airline", "tau2-retail"):
            tools = load_tools_file(root / name / "tool_schemas.json")
            self.originals[name] = import_traces([root / name / "traces.json"], tools=tools).traces
        self.pz = Pseudonymizer(KEY)
        everything = [t for ts in self.originals.values() for t in ts]
        self.result: ScrubResult = scrub_traces(everything, self.pz)
        self.scrubbed: dict[str, list[Trace]] = {}
        i = 0
        for name, ts in self.originals.items():
            self.scrubbed[name] = self.result.traces[i : i + len(ts)]
            i += len(ts)


@pytest.fixture(scope="session")
def real(shared_traces: Path) -> RealScrub:
    """tau-bench airline and tau2 retail, scrubbed together (one map, as a dataset)."""
    return RealScrub(shared_traces)
