"""What shell command outputs teach about files: parsers, writes, git diffs."""

from __future__ import annotations

from deploysim.reconstruct._shellobs import (
    DirEntries,
    FileLines,
    FileMeta,
    HunkContext,
    Written,
    diff_facts,
    shell_facts,
)


def test_cat_gives_the_whole_file() -> None:
    """`cat FILE` shows every line and the line count; relative paths resolve from the cwd."""
    (seen,) = shell_facts("cat src/a.py", "x = 1\ny = 2\n", "/repo")
    assert seen == FileLines("/repo/src/a.py", 1, ["x = 1", "y = 2"], 2)


def test_numbered_views_and_ranges() -> None:
    """`cat -n`, `nl`, `sed -n A,Bp` and `head -n N` place lines at their numbers."""
    assert shell_facts("cat -n /f", "     1\ta\n     2\tb\n", "/") == [
        FileLines("/f", 1, ["a", "b"], 2)
    ]
    assert shell_facts("nl /f", "     1\ta\n       \n     2\tc\n", "/") == [
        FileLines("/f", 1, ["a"], None),
        FileLines("/f", 2, ["c"], None),
    ]
    assert shell_facts("sed -n '5,9p' /f", "e\nf\n", "/") == [FileLines("/f", 5, ["e", "f"], 6)]
    assert shell_facts("head -n 3 /f", "a\nb\nc\n", "/") == [
        FileLines("/f", 1, ["a", "b", "c"], None)
    ]


def test_ls_long_gives_kinds_modes_and_sizes() -> None:
    """`ls -la` entries become paths with kind, octal mode and size; . and .. are skipped."""
    out = (
        "total 8\n"
        "drwxr-xr-x 2 a a 4096 May 1 10:00 .\n"
        "-rw------- 1 a a   22 May 1 10:00 .env\n"
        "-rwxr-xr-x 1 a a  120 May 1 10:00 run.sh\n"
        "drwxr-x--- 2 a a 4096 May 1 10:00 logs\n"
    )
    seen = shell_facts("ls -la /srv", out, "/")
    assert FileMeta("/srv/.env", "file", "0600", 22) in seen
    assert FileMeta("/srv/run.sh", "file", "0755", 120) in seen
    assert FileMeta("/srv/logs", "dir", "0750", None) in seen
    assert DirEntries("/srv", [".env", "run.sh", "logs/"]) in seen


def test_find_and_tree_list_existing_paths() -> None:
    """`find` prints paths that exist; `tree` nests names under their parents."""
    assert shell_facts("find /srv -type f", "/srv/a\n/srv/b/c\n", "/") == [
        FileMeta("/srv/a", "file"),
        FileMeta("/srv/b/c", "file"),
    ]
    tree = "app\n├── main.py\n└── pkg\n    └── mod.py\n\n2 directories\n"
    paths = [s.path for s in shell_facts("tree app", tree, "/w") if isinstance(s, FileMeta)]
    assert paths == ["/w/app/main.py", "/w/app/pkg", "/w/app/pkg/mod.py"]


def test_writes_mark_their_targets() -> None:
    """Redirections, rm, mv, sed -i mark paths changed by the agent (no view is read)."""
    assert shell_facts("echo hi > out.txt", "", "/w") == [Written("/w/out.txt", "changed")]
    assert Written("/w/x", "removed") in shell_facts("rm -f x", "", "/w")
    assert Written("/w/conf", "changed") in shell_facts("sed -i s/a/b/ conf", "", "/w")


def test_pipes_and_failures_teach_nothing() -> None:
    """Output of a pipeline or of a failed command is not attributed to a file."""
    assert shell_facts("cat a | head", "x\n", "/") == []
    assert shell_facts("cat /nope", "cat: /nope: No such file or directory\n", "/") == []


def test_git_diff_shows_committed_lines_modes_blobs_and_context() -> None:
    """A diff's context and removed lines are committed content at their old line numbers;
    the index line gives mode and blob id; the hunk header gives a function context."""
    diff = (
        "diff --git a/t/m.py b/t/m.py\n"
        "index 20edef5..5857437 100755\n"
        "--- a/t/m.py\n+++ b/t/m.py\n"
        "@@ -3,3 +3,3 @@ def main():\n"
        " a\n-b\n+B\n c\n"
        "diff --git a/new.py b/new.py\nnew file mode 100644\nindex 0000000..e69de29\n"
    )
    seen = diff_facts(diff, "/r")
    assert FileMeta("/r/t/m.py", "file", "0755", None, "20edef5") in seen
    assert HunkContext("/r/t/m.py", 3, "def main():") in seen
    assert FileLines("/r/t/m.py", 3, ["a", "b", "c"], None) in seen
    assert Written("/r/new.py", "created") in seen
