"""Environment snapshots: the model, the on-disk format, loading, hashing.

::

    from deploysim.snapshots import load_snapshot, content_hash

    sd = load_snapshot("env_snapshots/airline")
    print(sd.snapshot.name, content_hash(sd))
"""

from deploysim.snapshots._model import (
    BACKENDS,
    Column,
    Database,
    Exchange,
    FileEntry,
    FunctionTool,
    Handler,
    LookupHandler,
    Provenance,
    PythonHandler,
    QueryHandler,
    RecordedHandler,
    RecordedPair,
    RequestMatcher,
    Resource,
    ResponseSpec,
    Service,
    Snapshot,
    Table,
    ToolBinding,
    UpdateHandler,
)
from deploysim.snapshots._sqlite import decode_row, encode_row, materialize_database, read_rows
from deploysim.snapshots._store import (
    SNAPSHOT_FILE,
    SnapshotDir,
    content_hash,
    load_snapshot,
    save_snapshot,
    snapshot_errors,
)

__all__ = [
    "BACKENDS",
    "SNAPSHOT_FILE",
    "Column",
    "Database",
    "Exchange",
    "FileEntry",
    "FunctionTool",
    "Handler",
    "LookupHandler",
    "Provenance",
    "PythonHandler",
    "QueryHandler",
    "RecordedHandler",
    "RecordedPair",
    "RequestMatcher",
    "Resource",
    "ResponseSpec",
    "Service",
    "Snapshot",
    "SnapshotDir",
    "Table",
    "ToolBinding",
    "UpdateHandler",
    "content_hash",
    "decode_row",
    "encode_row",
    "load_snapshot",
    "materialize_database",
    "read_rows",
    "save_snapshot",
    "snapshot_errors",
]
