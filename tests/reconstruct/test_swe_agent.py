"""SWE-agent trajectories: the repository as seen, the agent's edits kept apart, the session."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from deploysim.reconstruct import reconstruct
from deploysim.reconstruct._files import blob_id
from deploysim.reconstruct.swe_session import Session, parse_command, run
from deploysim.snapshots import build_repo, load_snapshot
from deploysim.traces import Trace, import_traces


def _traj(shared: Path, name: str) -> list[Trace]:
    return import_traces([shared / "swe-agent" / name]).traces


def test_a_fully_seen_file_is_rebuilt_byte_for_byte(shared_traces: Path, tmp_path: Path) -> None:
    """The test-repo run saw all of missing_colon.py: its git blob equals the one the submitted
    diff names (20edef5), its mode is the diff's 100755, and the agent's edit is an effect."""
    result = reconstruct(_traj(shared_traces, "swe-agent__test-repo-i1.traj"), tmp_path / "s")
    sd = load_snapshot(tmp_path / "s")
    (repo,) = sd.snapshot.repos
    assert repo.path == "/klieret__swe-agent-test-repo" == sd.snapshot.workdir
    (change,) = repo.commits[0].changes
    assert change.path == "tests/missing_colon.py" and change.executable
    content = sd.change_bytes(repo, change)
    assert blob_id(content).startswith("20edef5")
    assert b"-> float\n    return" in content  # the original, before the agent added ':'
    assert [(e.path, e.how) for e in result.effects] == [
        (repo.path + "/tests/missing_colon.py", "changed")
    ]
    assert result.warnings == []


def test_partial_views_keep_line_numbers_and_say_what_was_seen(
    shared_traces: Path, tmp_path: Path
) -> None:
    """pydicom: a 372-line file seen through windows. Seen lines sit at their numbers (lines
    the agent's edit did not touch are learned from views after it); unseen ones are empty;
    the provenance lists the seen ranges; the diff's function context is placed above."""
    reconstruct(_traj(shared_traces, "pydicom__pydicom-1458.traj"), tmp_path / "p")
    sd = load_snapshot(tmp_path / "p")
    (repo,) = sd.snapshot.repos
    changes = {c.path: c for c in repo.commits[0].changes}
    assert set(changes) == {
        "pydicom/overlays/numpy_handler.py",
        "pydicom/pixel_data_handlers/numpy_handler.py",
        "pydicom/waveforms/numpy_handler.py",
    }
    lines = sd.change_bytes(repo, changes["pydicom/pixel_data_handlers/numpy_handler.py"]).decode()
    lines_list = lines.split("\n")
    assert len(lines_list) == 373  # 372 lines, each newline-terminated
    assert lines_list[236] == "    ----------"  # line 237, seen only after the edit
    assert lines_list[292].strip() == "raise AttributeError("  # line 293, seen before it
    assert lines_list[235].startswith("def get_pixeldata(")  # the hunk context, placed
    assert all(x == "" for x in lines_list[:235])
    detail = next(p.detail for p in repo.provenance if "pixel_data_handlers" in (p.detail or ""))
    assert "lines 237-372 of 372 seen; unseen lines written empty" in (detail or "")


def test_the_session_script_and_hook_ship_with_the_snapshot(
    shared_traces: Path, tmp_path: Path
) -> None:
    """The emulator, its learned configuration and the login hook are files of the snapshot,
    and `python` (which the run used) exists."""
    reconstruct(_traj(shared_traces, "swe-agent__test-repo-i1.traj"), tmp_path / "s")
    sd = load_snapshot(tmp_path / "s")
    files = {f.path: f for f in sd.snapshot.files}
    assert files["/usr/local/bin/python"].target == "/usr/bin/python3"
    assert "BASH_EXECUTION_STRING" in (
        files["/etc/profile.d/zz-deploysim-swe-agent.sh"].content or ""
    )
    assert '"root": "/klieret__swe-agent-test-repo"' in (
        files["/usr/local/lib/deploysim/swe_session.json"].content or ""
    )
    assert sd.snapshot.env["DEPLOYSIM_SWE_AGENT"] == "1"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small git repository with one Python file of 10 lines."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("".join(f"x{i} = {i}\n" for i in range(1, 11)))
    env = {
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@b",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@b",
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "init"]):
        subprocess.run(cmd, cwd=root, check=True, env=env)
    return root


def _session(repo: Path, tmp_path: Path, **config: object) -> Session:
    base = {"root": str(repo), "window": 100}
    return Session({**base, **config}, {})


def test_session_commands_print_as_swe_agent_did(repo: Path, tmp_path: Path) -> None:
    """find_file, open, a line edit, a failing edit and submit, with the footer each time."""
    s = _session(repo, tmp_path)
    out = run(s, *parse_command('find_file "mod.py"\n'))
    assert out.startswith(f'Found 1 matches for "mod.py" in {repo}:\n{repo}/pkg/mod.py\n')
    assert out.endswith(f"\n(Open file: n/a)\n(Current directory: {repo})\nbash-$")
    out = run(s, *parse_command("open pkg/mod.py\n"))
    assert out.startswith(f"[File: {repo}/pkg/mod.py (10 lines total)]\n1:x1 = 1\n")
    out = run(s, *parse_command("edit 2:2\nx2 = 'two'\nend_of_edit\n"))
    assert "2:x2 = 'two'\n" in out and "File updated." in out
    out = run(s, *parse_command("edit 3:3\nx3 = (\nend_of_edit\n"))
    assert "- E999 SyntaxError: '(' was never closed" in out
    assert (repo / "pkg" / "mod.py").read_text().splitlines()[2] == "x3 = 3"  # rolled back
    diff = run(s, *parse_command("submit\n"))
    assert diff.startswith("\ndiff --git a/pkg/mod.py b/pkg/mod.py\n")
    assert "-x2 = 2\n+x2 = 'two'\n" in diff


def test_bash_keeps_the_directory_between_commands(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cd` in one command holds for the next; empty output gets SWE-agent's message."""
    monkeypatch.setattr("deploysim.reconstruct.swe_session.STATE", tmp_path / "state.json")
    s = _session(repo, tmp_path)
    assert run(s, "bash", {"command": "cd pkg"}).startswith(
        "Your command ran successfully and did not produce any output.\n(Open file: n/a)"
    )
    assert s.cwd == f"{repo}/pkg"
    assert run(s, "bash", {"command": "ls"}).startswith("mod.py\n")


def test_a_partly_seen_file_is_linted_on_the_block_the_agent_saw(
    repo: Path, tmp_path: Path
) -> None:
    """Unseen (empty) lines cannot cause a lint error: with lines 6-10 seen only, an edit is
    checked on the seen block, so a good edit passes and a broken one fails as it did."""
    path = repo / "pkg" / "mod.py"
    lines = ["", "", "", "", "", "def f():", "    a = [", "        1,", "    ]", "    return a"]
    path.write_text("\n".join(lines) + "\n")
    s = _session(repo, tmp_path, partial={str(path): [[6, 10]]})
    run(s, "open", {"path": str(path)})
    ok = run(s, *parse_command("edit 8:8\n        2,\nend_of_edit\n"))
    assert "File updated." in ok
    bad = run(s, *parse_command("edit 9:9\n    ]]\nend_of_edit\n"))
    assert "- E999 SyntaxError: unmatched ']'" in bad


def test_the_rebuilt_repository_builds_with_git(shared_traces: Path, tmp_path: Path) -> None:
    """The repository rebuilt from pydicom's views is a valid git history (built offline)."""
    reconstruct(_traj(shared_traces, "pydicom__pydicom-1458.traj"), tmp_path / "p")
    sd = load_snapshot(tmp_path / "p")
    (repo,) = sd.snapshot.repos
    built = build_repo(sd, repo, tmp_path / "work")
    assert (tmp_path / "work" / "pydicom" / "waveforms" / "numpy_handler.py").exists()
    assert built.head


REAL_RUNS = {
    "swe-agent__test-repo-i1.traj": 5,
    "6e44b9__sweagenttestrepo-1c2844.traj": 4,
    "pydicom__pydicom-1458.traj": 12,
}
BLOB_IDS = {"*": ["re:index [0-9a-f]+\\.\\.[0-9a-f]+"]}


@pytest.mark.docker
def test_real_gpt4_runs_reproduce_in_a_pod(
    shared_traces: Path, tmp_path: Path, base_image: str
) -> None:
    """The three real GPT-4 runs replay in pods through the session emulator: every call of the
    two test-repo runs reproduces exactly; pydicom's differ only where the run executed code
    the traces never showed (numpy, pydicom's own modules) or where git prints blob ids of
    content never seen."""
    from deploysim.reconstruct import fidelity

    reports = {}
    for name, calls in REAL_RUNS.items():
        traces = _traj(shared_traces, name)
        reconstruct(traces, tmp_path / name.split(".")[0].lower().replace("_", "-"))
        report = fidelity(
            tmp_path / name.split(".")[0].lower().replace("_", "-"), traces, volatile=BLOB_IDS
        )
        assert report.calls == calls
        reports[name] = report
    assert reports["swe-agent__test-repo-i1.traj"].rate == 1.0
    assert reports["6e44b9__sweagenttestrepo-1c2844.traj"].rate == 1.0
    pydicom = reports["pydicom__pydicom-1458.traj"]
    differs = [r.seq for r in pydicom.results if r.status != "reproduced"]
    assert differs == [2, 9]  # `python reproduce_bug.py`: numpy and pydicom are not in the pod
    assert [r.how for r in pydicom.results if r.match == "normalized"] == ["volatile patterns"]
    total = sum(r.reproduced for r in reports.values()) / sum(r.calls for r in reports.values())
    assert total >= 0.9
