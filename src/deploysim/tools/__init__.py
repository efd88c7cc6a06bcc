"""Tools offered to the candidate: the router and its backends, each result labelled.

::

    router = Router(trace.tools, CallContext(pod=pod, services=PodServices(pod)), snapshot)
    outcome = await router.call(ToolRequest(name="get_user_details",
                                            arguments={"user_id": "mia_li_3668"}))
    outcome.output, outcome.provenance   # '{"name": ...}', 'live'
"""

from deploysim.tools._backends import (
    Backend,
    CallContext,
    NotServed,
    RecordedPool,
    backend,
    backend_names,
    get_backend,
    output_text,
)
from deploysim.tools._endpoints import InProcessServices, PodServices
from deploysim.tools._model import Provenance, ServicesEndpoint, ToolOutcome, ToolRequest
from deploysim.tools._router import Router, default_chain

__all__ = [
    "Backend",
    "CallContext",
    "InProcessServices",
    "NotServed",
    "PodServices",
    "Provenance",
    "RecordedPool",
    "Router",
    "ServicesEndpoint",
    "ToolOutcome",
    "ToolRequest",
    "backend",
    "backend_names",
    "default_chain",
    "get_backend",
    "output_text",
]
