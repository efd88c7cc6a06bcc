"""`deploysim services serve`: argument errors in-process, the server as a real subprocess."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from deploysim.cli.services import app
from deploysim.errors import SnapshotError
from deploysim.services import LOG_FILE

runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_help_has_an_example() -> None:
    """`serve --help` shows an Example line."""
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Example: deploysim services serve" in result.output


def test_missing_or_nonexistent_snapshot_is_a_usage_error(tmp_path: Path) -> None:
    """No SNAPSHOT, or one that does not exist, exits 2 with a usage message."""
    assert runner.invoke(app, ["serve"]).exit_code == 2
    result = runner.invoke(app, ["serve", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_port_out_of_range_is_a_usage_error(shop_dir: Path) -> None:
    """--port must be 1..65535."""
    result = runner.invoke(app, ["serve", str(shop_dir), "--port", "70000"])
    assert result.exit_code == 2
    assert "--port" in result.output
    assert "65535" in result.output


def test_invalid_snapshot_raises_snapshot_error(tmp_path: Path) -> None:
    """A folder without snapshot.yaml fails with SnapshotError (the root CLI prints it)."""
    result = runner.invoke(app, ["serve", str(tmp_path), "--state-dir", str(tmp_path / "s")])
    assert isinstance(result.exception, SnapshotError)
    assert "snapshot.yaml is missing" in str(result.exception)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(snapshot: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start `serve` in a subprocess; return it and its URL once it answers."""
    port = _free_port()
    code = "from deploysim.cli.services import app; app()"
    cmd = [sys.executable, "-c", code, "serve", str(snapshot), "--port", str(port), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{url}/__deploysim/health", timeout=1)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"server did not start: {proc.communicate()[1].decode()}")
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> str:
    """SIGTERM the server; return its stderr."""
    proc.terminate()
    _, err = proc.communicate(timeout=15)
    return err.decode()


def test_serve_answers_over_http_until_terminated(shop_dir: Path, tmp_path: Path) -> None:
    """The command serves on 127.0.0.1:PORT, logs into --state-dir, sends no Server header,
    and exits 0 on SIGTERM."""
    state = tmp_path / "state"
    proc, url = _start(shop_dir, "--state-dir", str(state))
    try:
        health = httpx.get(f"{url}/__deploysim/health")
        assert health.json() == {"ok": True, "snapshot": "shop"}
        r = httpx.get(f"{url}/v1/ping", headers={"host": "api.shop.test"})
        assert r.json() == {"pong": True}
        assert "server" not in r.headers
        tool = httpx.post(f"{url}/tools/order_status", json={"order_id": 2})
        assert tool.json() == {"output": "shipped", "is_error": False}
        logged = [json.loads(line) for line in (state / LOG_FILE).read_text().splitlines()]
        assert [e["backend"] for e in logged] == ["exchange", "function"]
    finally:
        err = _stop(proc)
    assert proc.returncode == 0, err
    assert url in err
    assert (state / "shop.db").exists()


def test_serve_without_state_dir_removes_its_temporary_folder(shop_dir: Path) -> None:
    """Without --state-dir the state lives in a temporary folder, removed after SIGTERM."""
    proc, url = _start(shop_dir)
    try:
        assert httpx.get(f"{url}/v1/ping", headers={"host": "api.shop.test"}).status_code == 200
    finally:
        err = _stop(proc)
    assert proc.returncode == 0, err
    folder = Path(err.split("state in ")[1].split()[0])
    assert folder.name.startswith("deploysim-services-")
    assert not folder.exists()


def test_cli_module_does_not_import_fastapi() -> None:
    """Importing the services command group leaves FastAPI and uvicorn unimported."""
    code = (
        "import sys, deploysim.cli.services;"
        "print([m for m in ('fastapi', 'uvicorn', 'deploysim.services') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
