"""Environment snapshots: the model, the on-disk format, loading, hashing, authoring.

::

    from deploysim.snapshots import content_hash, diff_snapshots, load_snapshot, validate_snapshot

    sd = load_snapshot("env_snapshots/airline")
    print(sd.snapshot.name, content_hash(sd))
    report = validate_snapshot("env_snapshots/shop")
    changes = diff_snapshots(load_snapshot("a"), load_snapshot("b"))
"""

from deploysim.snapshots._authoring import (
    AddedService,
    AddedTable,
    FakedTable,
    add_file,
    add_service_har,
    add_service_openapi,
    add_table,
    fake_table,
    new_snapshot,
)
from deploysim.snapshots._bounded import UnpackLimits, parse_size
from deploysim.snapshots._diff import (
    FileChange,
    KeyedChange,
    RowChange,
    ServiceDiff,
    SnapshotDiff,
    TableDiff,
    diff_rows,
    diff_snapshots,
    exchange_key,
)
from deploysim.snapshots._fake import DEFAULT_NOW, FakeResult, fake_rows
from deploysim.snapshots._git import BuiltRepo, build_repo
from deploysim.snapshots._har import HarImport, exchanges_from_har
from deploysim.snapshots._ident import identifier_problem, rows_file_name
from deploysim.snapshots._model import (
    BACKENDS,
    Column,
    Database,
    Exchange,
    FileEntry,
    FunctionTool,
    GitChange,
    GitCommit,
    GitRepo,
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
from deploysim.snapshots._openapi import OpenApiImport, service_from_openapi
from deploysim.snapshots._pack import PackManifest, PackResult, pack_snapshot
from deploysim.snapshots._sqlite import (
    decode_row,
    encode_row,
    materialize_database,
    quote_identifier,
    read_rows,
)
from deploysim.snapshots._store import (
    SNAPSHOT_FILE,
    SnapshotDir,
    content_hash,
    load_snapshot,
    save_snapshot,
    snapshot_errors,
)
from deploysim.snapshots._system import (
    SYSTEM_DIRS,
    SYSTEM_ENV,
    SYSTEM_ENV_PREFIXES,
    SYSTEM_FILES,
    SYSTEM_PATTERNS,
    SYSTEM_TREES,
    forbidden_mode_bits,
    system_env_reason,
    system_path_reason,
)
from deploysim.snapshots._tables import (
    ColumnSpec,
    ImportedRows,
    choose_primary_key,
    parse_column_spec,
    read_rows_file,
)
from deploysim.snapshots._unpack import unpack_snapshot
from deploysim.snapshots._validate import Issue, ValidationReport, validate_snapshot

__all__ = [
    "BACKENDS",
    "DEFAULT_NOW",
    "SNAPSHOT_FILE",
    "SYSTEM_DIRS",
    "SYSTEM_ENV",
    "SYSTEM_ENV_PREFIXES",
    "SYSTEM_FILES",
    "SYSTEM_PATTERNS",
    "SYSTEM_TREES",
    "AddedService",
    "AddedTable",
    "BuiltRepo",
    "Column",
    "ColumnSpec",
    "Database",
    "Exchange",
    "FakeResult",
    "FakedTable",
    "FileChange",
    "FileEntry",
    "FunctionTool",
    "GitChange",
    "GitCommit",
    "GitRepo",
    "Handler",
    "HarImport",
    "ImportedRows",
    "Issue",
    "KeyedChange",
    "LookupHandler",
    "OpenApiImport",
    "PackManifest",
    "PackResult",
    "Provenance",
    "PythonHandler",
    "QueryHandler",
    "RecordedHandler",
    "RecordedPair",
    "RequestMatcher",
    "Resource",
    "ResponseSpec",
    "RowChange",
    "Service",
    "ServiceDiff",
    "Snapshot",
    "SnapshotDiff",
    "SnapshotDir",
    "Table",
    "TableDiff",
    "ToolBinding",
    "UnpackLimits",
    "UpdateHandler",
    "ValidationReport",
    "add_file",
    "add_service_har",
    "add_service_openapi",
    "add_table",
    "build_repo",
    "choose_primary_key",
    "content_hash",
    "decode_row",
    "diff_rows",
    "diff_snapshots",
    "encode_row",
    "exchange_key",
    "exchanges_from_har",
    "fake_rows",
    "fake_table",
    "forbidden_mode_bits",
    "identifier_problem",
    "load_snapshot",
    "materialize_database",
    "new_snapshot",
    "pack_snapshot",
    "parse_column_spec",
    "parse_size",
    "quote_identifier",
    "read_rows",
    "read_rows_file",
    "rows_file_name",
    "save_snapshot",
    "service_from_openapi",
    "snapshot_errors",
    "system_env_reason",
    "system_path_reason",
    "unpack_snapshot",
    "validate_snapshot",
]
