"""The Snapshot model: the external state an agent saw, rebuilt as data.

On disk a snapshot is a folder::

    env_snapshots/<name>/
      snapshot.yaml          this model (files/tables may point into the folders below)
      files/                 file contents referenced by FileEntry.source
      databases/             table rows referenced by Table.rows_file (JSONL, one row per line)
      services/              service handler modules referenced by PythonHandler.module

Every fact can carry :class:`Provenance` saying where it came from (authored, a trace message,
an imported file, Faker).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from deploysim.snapshots._ident import identifier_collisions, identifier_problem
from deploysim.snapshots._paths import relative_path_problem
from deploysim.snapshots._system import (
    SYSTEM_DIRS,
    forbidden_mode_bits,
    system_env_reason,
    system_path_reason,
)

__all__ = [
    "BACKENDS",
    "Column",
    "Database",
    "Exchange",
    "FileEntry",
    "FunctionTool",
    "GitChange",
    "GitCommit",
    "GitRepo",
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
    "Table",
    "ToolBinding",
    "UpdateHandler",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODE = re.compile(r"^0?[0-7]{3,4}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_ROOT_USERS = frozenset({"root"})
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")

BACKENDS = ("live", "recorded", "emulated", "unavailable")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _pod_path(v: str) -> str:
    """An absolute path in the pod that a snapshot may supply (not a system path)."""
    if not v.startswith("/") or "/../" in v + "/" or "\x00" in v:
        raise ValueError("must be an absolute path without '..'")
    why = system_path_reason(v)
    if why is not None:
        raise ValueError(
            f"{v} is a system path ({why}); a snapshot never supplies it, the image's own is used"
        )
    return v


def _content_path(v: str | None) -> str | None:
    """A path relative to one of the snapshot's content folders (checked for escape on load)."""
    if v is not None:
        problem = relative_path_problem(v)
        if problem:
            raise ValueError(problem)
    return v


def _mode(v: str) -> str:
    if not _MODE.match(v):
        raise ValueError("must be octal permission bits such as '0644'")
    if forbidden_mode_bits(int(v, 8)):
        raise ValueError("setuid and setgid bits are never taken from a snapshot")
    return v.zfill(4)


def _file_name(v: str) -> str:
    if not _FILE_NAME.match(v):
        raise ValueError("must be letters, digits, '.', '_' or '-' (it names files)")
    return v


def _sql_name(v: str) -> str:
    problem = identifier_problem(v)
    if problem:
        raise ValueError(problem)
    return v


# Constrained strings, each checked by one function wherever a field holds one.
PodPath = Annotated[str, AfterValidator(_pod_path)]
"""An absolute path in the pod that a snapshot may supply (not a system path)."""
ContentPath = Annotated[str, AfterValidator(_content_path)]
"""A path inside one of the snapshot's content folders."""
Mode = Annotated[str, AfterValidator(_mode)]
"""Octal permission bits without setuid/setgid."""
FileName = Annotated[str, AfterValidator(_file_name)]
"""A name that is also used as a file name."""
SqlName = Annotated[str, AfterValidator(_sql_name)]
"""A table or column name SQLite can hold."""


class Provenance(_Model):
    """Where a fact came from."""

    source: Literal["authored", "trace", "import", "faker", "openapi", "har", "extends"] = Field(
        description="Kind of origin."
    )
    trace_id: str | None = Field(default=None, description="Trace the fact was observed in.")
    message_index: int | None = Field(default=None, description="Message index in that trace.")
    call_id: str | None = Field(default=None, description="Tool call whose result showed it.")
    detail: str | None = Field(default=None, description="Free text: file imported, seed used.")


ProvenanceList = Annotated[list[Provenance], Field(default_factory=list)]


# --------------------------------------------------------------------------- files


class FileEntry(_Model):
    """A file, directory or symlink in the workspace."""

    path: PodPath = Field(description="Absolute path inside the sandbox.")
    kind: Literal["file", "dir", "symlink"] = "file"
    content: str | None = Field(default=None, description="Inline content (text or base64).")
    encoding: Literal["utf-8", "base64"] = Field(
        default="utf-8", description="How inline content is encoded; base64 for binary."
    )
    source: ContentPath | None = Field(
        default=None, description="Path of the content under the snapshot's files/ folder."
    )
    target: str | None = Field(default=None, description="Symlink target.")
    mode: Mode = Field(default="0644", description="Octal permission bits, e.g. '0600'.")
    owner: str = Field(default="agent", description="Owning user name inside the sandbox.")
    group: str | None = Field(default=None, description="Owning group; the owner's when None.")
    provenance: ProvenanceList

    @model_validator(mode="after")
    def _one_body(self) -> FileEntry:
        if self.kind == "file" and (self.content is None) == (self.source is None):
            raise ValueError("a file needs exactly one of 'content' or 'source'")
        if self.kind == "dir" and (self.content is not None or self.source is not None):
            raise ValueError("a directory has no content")
        if self.kind == "symlink" and not self.target:
            raise ValueError("a symlink needs a 'target'")
        return self


# --------------------------------------------------------------------------- databases

ColumnType = Literal["TEXT", "INTEGER", "REAL", "BLOB", "NUMERIC", "JSON"]


class Column(_Model):
    """A table column. JSON columns hold nested values, stored as JSON text in SQLite."""

    name: SqlName
    type: ColumnType = "TEXT"
    nullable: bool = True
    references: str | None = Field(
        default=None, description="Foreign key as 'table.column' in the same database."
    )
    values: list[str | int | float] | None = Field(
        default=None,
        description="Allowed values (an enum); checked by validate, drawn from by Faker.",
    )

    @field_validator("references")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[^.\s]+\.[^.\s]+$", v):
            raise ValueError("must be 'table.column'")
        return v


class Table(_Model):
    """A table with its schema and rows (inline or in a JSONL file)."""

    name: SqlName
    columns: list[Column]
    primary_key: list[str] = Field(description="Column names forming the primary key.")
    rows: list[dict[str, Any]] | None = Field(default=None, description="Inline rows.")
    rows_file: ContentPath | None = Field(
        default=None, description="JSONL file of rows under the snapshot's databases/ folder."
    )
    provenance: ProvenanceList

    @model_validator(mode="after")
    def _keys_exist(self) -> Table:
        names = [c.name for c in self.columns]
        clashes = identifier_collisions(names)
        if clashes:
            raise ValueError(
                f"duplicate column names {clashes} (SQLite ignores ASCII case in names)"
            )
        missing = [k for k in self.primary_key if k not in names]
        if missing:
            raise ValueError(f"primary key column(s) {missing} are not columns")
        if not self.primary_key:
            raise ValueError("a table needs a primary key")
        if self.rows is not None and self.rows_file is not None:
            raise ValueError("give rows inline or in rows_file, not both")
        return self


class Database(_Model):
    """A SQLite database file placed in the sandbox (and/or used by a service)."""

    name: FileName = Field(description="Name other parts refer to (services, handlers).")
    path: PodPath = Field(description="Absolute path of the .db file inside the sandbox.")
    tables: list[Table] = Field(default_factory=list)
    owner: str = "agent"
    mode: Mode = "0644"

    @model_validator(mode="after")
    def _distinct_tables(self) -> Database:
        clashes = identifier_collisions(t.name for t in self.tables)
        if clashes:
            raise ValueError(
                f"duplicate table names {clashes} (SQLite ignores ASCII case in names)"
            )
        return self

    def table(self, name: str) -> Table | None:
        """The table called ``name``."""
        return next((t for t in self.tables if t.name == name), None)


# --------------------------------------------------------------------------- services


class RequestMatcher(_Model):
    """What a recorded request must look like to be answered by its recorded response."""

    method: str = "GET"
    path: str = Field(description="Exact path, or a template with {name} segments.")
    query: dict[str, str] | None = Field(default=None, description="Query params to match.")
    json_body: Any = Field(default=None, description="JSON body to match (see strictness).")
    headers: dict[str, str] | None = Field(default=None, description="Headers that must match.")
    strictness: Literal["exact", "subset", "ignore_body"] = Field(
        default="exact",
        description="exact: query and body equal; subset: recorded ones contained; "
        "ignore_body: method and path only.",
    )


class ResponseSpec(_Model):
    """A response to send."""

    status: int = 200
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: Any = Field(default=None, description="JSON body; used when text is None.")
    text: str | None = Field(default=None, description="Raw body text.")


class Exchange(_Model):
    """A recorded request and the response it got."""

    request: RequestMatcher
    response: ResponseSpec
    provenance: ProvenanceList


ResourceMethod = Literal["list", "get", "create", "update", "patch", "delete"]
RESOURCE_METHODS: tuple[ResourceMethod, ...] = (
    "list",
    "get",
    "create",
    "update",
    "patch",
    "delete",
)


class Resource(_Model):
    """A REST collection backed by a table: list (with filters), get, create, update, delete."""

    path: str = Field(description="Collection path, e.g. '/v1/orders'; items at '/v1/orders/{id}'.")
    table: str = Field(description="Table in the service's database.")
    id_field: str = Field(default="id", description="Column identifying an item.")
    filters: list[str] = Field(
        default_factory=list, description="Columns the list endpoint filters on (query params)."
    )
    methods: list[ResourceMethod] = Field(default_factory=lambda: list(RESOURCE_METHODS))
    envelope: str | None = Field(
        default=None, description="Key wrapping list results ('data'), or None for a bare list."
    )


class RecordedPair(_Model):
    """A recorded call of a function tool and its result."""

    arguments: dict[str, Any]
    output: Any = Field(description="The result: JSON value, or text.")
    is_error: bool = False
    provenance: ProvenanceList


class RecordedHandler(_Model):
    """Answer from recorded pairs (exact argument match)."""

    kind: Literal["recorded"] = "recorded"
    pairs: list[RecordedPair] = Field(default_factory=list)


class LookupHandler(_Model):
    """A read: find one row by key columns and return it (or one column of it)."""

    kind: Literal["lookup"] = "lookup"
    table: str
    key: dict[str, str] = Field(description="Argument name -> column name.")
    field: str | None = Field(default=None, description="Return only this column's value.")
    omit: list[str] = Field(
        default_factory=list,
        description="Columns left out of the returned row (e.g. a key the original omitted).",
    )
    drop_nulls: bool = Field(
        default=False,
        description="Leave out columns whose value is NULL (keys absent from the original).",
    )
    not_found: str = Field(default="Error: {table} not found", description="Error text template.")


class QueryHandler(_Model):
    """A read: run a parameterized SELECT (named :arguments) and return the rows."""

    kind: Literal["query"] = "query"
    sql: str
    one: bool = Field(default=False, description="Return the first row, not a list.")


class UpdateHandler(_Model):
    """A write: set fields of one row found by key columns; return the updated row."""

    kind: Literal["update"] = "update"
    table: str
    key: dict[str, str] = Field(description="Argument name -> column name.")
    set: dict[str, Any] = Field(
        description="Column -> new value; a string '$arg' takes the argument 'arg'."
    )


class PythonHandler(_Model):
    """A handler function in a module shipped with the snapshot; runs only in the sidecar."""

    kind: Literal["python"] = "python"
    module: str = Field(description="Path of the .py file under the snapshot's services/ folder.")
    function: str = Field(description="Function called with (db, **arguments).")

    @field_validator("module")
    @classmethod
    def _module(cls, v: str) -> str:
        _content_path(v)
        return v


Handler = Annotated[
    RecordedHandler | LookupHandler | QueryHandler | UpdateHandler | PythonHandler,
    Field(discriminator="kind"),
]


class FunctionTool(_Model):
    """A function tool served at /tools/<name> by a service."""

    name: str
    handler: Handler
    effect: Literal["read", "write", "unknown"] = "unknown"
    provenance: ProvenanceList


class Service(_Model):
    """A mocked HTTP service: hostnames, recorded exchanges, resources, function tools."""

    name: FileName
    hostnames: list[str] = Field(default_factory=list)
    scheme: Literal["http", "https"] = "https"
    database: str | None = Field(
        default=None, description="Database (by name) backing resources and handlers."
    )
    exchanges: list[Exchange] = Field(default_factory=list)
    resources: list[Resource] = Field(default_factory=list)
    function_tools: list[FunctionTool] = Field(default_factory=list)
    error_body: Any = Field(
        default=None,
        description="Shape of the API's error bodies, with {status} and {message} placeholders.",
    )
    provenance: ProvenanceList

    @field_validator("hostnames")
    @classmethod
    def _hosts(cls, v: list[str]) -> list[str]:
        bad = [h for h in v if not _HOST.match(h)]
        if bad:
            raise ValueError(f"not valid lowercase hostnames: {bad}")
        return v


# --------------------------------------------------------------------------- git repositories

_GIT_IDENT = re.compile(r"^[^<>\n]+ <[^<>\s]*>$")


class GitChange(_Model):
    """One path written or deleted by a commit (path relative to the repository root)."""

    path: str = Field(description="Path inside the repository, e.g. 'src/app.py'.")
    content: str | None = Field(default=None, description="Inline text content.")
    source: ContentPath | None = Field(
        default=None, description="Path of the content under the snapshot's files/ folder."
    )
    executable: bool = Field(default=False, description="Commit the file as mode 100755.")
    delete: bool = Field(default=False, description="Remove the path in this commit.")

    @field_validator("path")
    @classmethod
    def _relative(cls, v: str) -> str:
        parts = v.split("/")
        if not v or v.startswith("/") or ".." in parts or "" in parts or "\x00" in v:
            raise ValueError("must be a relative path without '..' or empty segments")
        if parts[0] == ".git":
            raise ValueError("cannot write inside .git")
        return v

    @model_validator(mode="after")
    def _one_body(self) -> GitChange:
        bodies = (self.content is not None) + (self.source is not None)
        if self.delete and bodies:
            raise ValueError("a deletion has no 'content' or 'source'")
        if not self.delete and bodies != 1:
            raise ValueError("a change needs exactly one of 'content' or 'source' (or delete)")
        return self


class GitCommit(_Model):
    """A commit: who, when, why, and the paths it changes (over its parent's tree)."""

    message: str
    author: str = Field(description="'Name <email>'.")
    date: datetime = Field(description="Author and commit date (give a timezone).")
    committer: str | None = Field(default=None, description="'Name <email>'; the author's if None.")
    changes: list[GitChange] = Field(default_factory=list)

    @field_validator("author", "committer")
    @classmethod
    def _ident(cls, v: str | None) -> str | None:
        if v is not None and not _GIT_IDENT.match(v):
            raise ValueError("must look like 'Name <email>'")
        return v


class GitRepo(_Model):
    """A git repository built from a list of commits (linear history on one branch).

    Built with ``git fast-import`` from fixed authors and dates, so the commit ids are the same
    on every build. The working tree is the last commit's tree; file entries whose paths lie
    inside the repository are written afterwards and show as uncommitted changes.
    """

    path: str = Field(description="Absolute path of the work tree inside the sandbox.")
    branch: str = "main"
    commits: list[GitCommit] = Field(min_length=1)
    remotes: dict[str, str] = Field(default_factory=dict, description="Remote name -> URL.")
    owner: str = "agent"
    provenance: ProvenanceList

    @field_validator("path")
    @classmethod
    def _absolute(cls, v: str) -> str:
        return _pod_path(v.rstrip("/") or "/")

    @model_validator(mode="after")
    def _work_tree(self) -> GitRepo:
        # The work tree lands in the pod too: a repository at / must not commit etc/passwd.
        root = self.path.rstrip("/")
        bad = []
        for i, c in enumerate(self.commits):
            for j, ch in enumerate(c.changes):
                full = f"{root}/{ch.path}"
                why = system_path_reason(full)
                if why is not None and not ch.delete:
                    bad.append(f"commits[{i}].changes[{j}].path puts {full} ({why})")
        if bad:
            raise ValueError(
                "a repository never writes system paths; the image's own are used: "
                + "; ".join(bad)
            )
        return self

    @field_validator("remotes")
    @classmethod
    def _remotes(cls, v: dict[str, str]) -> dict[str, str]:
        # Names and URLs reach `git remote add` on the host: no option look-alikes.
        bad = [k for k, url in v.items() if not _FILE_NAME.match(k) or url.startswith("-")]
        if bad:
            raise ValueError(f"remote names must be plain names and URLs not options: {bad}")
        return v

    @field_validator("branch")
    @classmethod
    def _branch(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", v) or ".." in v:
            raise ValueError("not a valid branch name")
        return v


# --------------------------------------------------------------------------- snapshot


class ToolBinding(_Model):
    """Which backend answers a trace tool during replay."""

    tool: str = Field(description="Tool name as the trace declares it.")
    backend: Literal["live", "recorded", "emulated", "unavailable"] = "live"
    service: str | None = Field(
        default=None, description="Service serving it as a function tool (live function tools)."
    )


class Snapshot(_Model):
    """An environment snapshot."""

    name: str
    version: str = "1"
    description: str = ""
    extends: str | None = Field(
        default=None, description="Snapshot (folder path or name) this one overrides."
    )
    base_image: str = "deploysim/base"
    user: str = Field(default="agent", description="The agent's (non-root) user.")
    workdir: str = "/home/agent"
    files: list[FileEntry] = Field(default_factory=list)
    repos: list[GitRepo] = Field(
        default_factory=list, description="Git repositories built from commit lists."
    )
    databases: list[Database] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    tool_bindings: list[ToolBinding] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    clock: datetime | None = Field(default=None, description="Frozen wall-clock time.")
    provenance: ProvenanceList

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("must be lowercase letters, digits, '.', '_' or '-'")
        return v

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        if v in _ROOT_USERS or (v.isdigit() and int(v) == 0):
            raise ValueError("the agent never runs as root (uid 0); name a non-root user")
        return v

    @field_validator("workdir")
    @classmethod
    def _workdir(cls, v: str) -> str:
        # A working directory may be one of the image's folders (/tmp); only its missing
        # parents are created, so what counts is that it lies in no system tree.
        return v if v in SYSTEM_DIRS else _pod_path(v)

    @field_validator("env")
    @classmethod
    def _env(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if not _IDENT.match(k)]
        if bad:
            raise ValueError(f"not valid environment variable names: {bad}")
        steer = {k: why for k in v if (why := system_env_reason(k)) is not None}
        if steer:
            raise ValueError(
                f"a snapshot may not set {sorted(steer)}: they steer "
                f"{', '.join(sorted(set(steer.values())))}, and the env reaches root processes"
            )
        return v

    def database(self, name: str) -> Database | None:
        """The database called ``name``."""
        return next((d for d in self.databases if d.name == name), None)

    def service(self, name: str) -> Service | None:
        """The service called ``name``."""
        return next((s for s in self.services if s.name == name), None)
