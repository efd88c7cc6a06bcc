"""Tools offered to the candidate: the router and its backends, each result labelled.

::

    router = Router(trace.tools, CallContext(pod=pod, services=PodServices(pod)), snapshot)
    outcome = await router.call(ToolRequest(name="get_user_details",
                                            arguments={"user_id": "mia_li_3668"}))
    outcome.output, outcome.provenance   # '{"name": ...}', 'live'

Backends (one registry, :func:`backend`): ``function``, ``shell``, ``editor``, ``sql``,
``http`` (live), ``recorded``, ``emulated`` (a simulator model; only with
``CallContext.emulator``) and ``unavailable``. :func:`normalize_schema` rewrites a recorded
schema into what inspect-ai keeps; ``deploysim.tools._inspect.offered_tools`` (imports
inspect-ai) turns a trace's tools into inspect ``ToolInfo``.
"""

from deploysim.tools._backends import (
    Backend,
    CallContext,
    NotServed,
    RecordedExample,
    RecordedPool,
    backend,
    backend_names,
    get_backend,
    output_text,
)
from deploysim.tools._editor import EditorBackend
from deploysim.tools._emulated import EmulatedBackend, ModelEmulator, snapshot_summary
from deploysim.tools._endpoints import InProcessServices, PodServices
from deploysim.tools._model import (
    EmulatedAnswer,
    Emulator,
    Provenance,
    ServicesEndpoint,
    ToolOutcome,
    ToolRequest,
)
from deploysim.tools._router import Router, default_chain
from deploysim.tools._schema import (
    KEPT_KEYWORDS,
    NormalizedSchema,
    normalize_schema,
    normalize_tool_description,
)
from deploysim.tools._sql_http import HttpBackend, SqlBackend

__all__ = [
    "KEPT_KEYWORDS",
    "Backend",
    "CallContext",
    "EditorBackend",
    "EmulatedAnswer",
    "EmulatedBackend",
    "Emulator",
    "HttpBackend",
    "InProcessServices",
    "ModelEmulator",
    "NormalizedSchema",
    "NotServed",
    "PodServices",
    "Provenance",
    "RecordedExample",
    "RecordedPool",
    "Router",
    "ServicesEndpoint",
    "SqlBackend",
    "ToolOutcome",
    "ToolRequest",
    "backend",
    "backend_names",
    "default_chain",
    "get_backend",
    "normalize_schema",
    "normalize_tool_description",
    "output_text",
    "snapshot_summary",
]
