"""`deploysim sandbox ...` and `deploysim doctor`: images, interactive pods, cleanup."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from deploysim.cli._output import err_console, print_json

__all__ = ["app", "doctor_command"]

app = typer.Typer(help="Build images, start interactive pods, clean up.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def doctor_command(json_out: JsonOpt = False) -> None:
    """Check the Docker engine, base image, compose plugin and inspect-ai; say how to fix each.

    Exits 1 when a check fails.

    Example: deploysim doctor --json
    """
    from deploysim.sandbox import doctor

    report = doctor()
    if json_out:
        print_json(report.model_dump())
    else:
        for c in report.checks:
            mark = "[green]ok[/]  " if c.ok else "[red]FAIL[/]"
            err_console.print(f"{mark} {c.name}: {c.detail}")
            if not c.ok:
                err_console.print(f"      fix: {c.fix}")
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def build(
    snapshot: Annotated[
        Path | None, typer.Argument(help="Also build this snapshot's images.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Build the base image (offline via debootstrap here) and optionally a snapshot's images.

    Building twice is a no-op: tags are content hashes.

    Example: deploysim sandbox build env_snapshots/shop
    """
    from deploysim.sandbox import ensure_base_image, ensure_snapshot_images
    from deploysim.snapshots import load_snapshot

    with err_console.status("building the base image (first time: about 2 minutes)..."):
        base = ensure_base_image()
    out: dict[str, object] = {"base": base.tag, "built": base.built, "log": str(base.log)}
    if snapshot is not None:
        images = ensure_snapshot_images(load_snapshot(snapshot), base.tag)
        out.update(workspace=images.workspace, services=images.services)
    if json_out:
        print_json(out)
    else:
        for k, v in out.items():
            err_console.print(f"{k}: {v}")


@app.command()
def up(
    snapshot: Annotated[
        Path | None, typer.Argument(help="Snapshot folder to seed the pod.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Start a pod that stays up until `sandbox down`; prints its id.

    Example: deploysim sandbox up env_snapshots/dev-workstation
    """
    from deploysim.sandbox import Pod
    from deploysim.snapshots import load_snapshot

    sd = load_snapshot(snapshot) if snapshot else None
    pod = asyncio.run(Pod.start(sd, keep=True, sample_id="interactive"))
    info = {
        "pod": pod.id,
        "workspace": pod.workspace.name,
        "services": pod.services.name if pod.services else None,
    }
    if json_out:
        print_json(info)
    else:
        err_console.print(
            f"pod {pod.id} is up; open a shell with: deploysim sandbox shell {pod.id}"
        )


def _containers(pod_id: str | None) -> list[Any]:
    from deploysim.sandbox._docker import client

    label = f"deploysim.pod={pod_id}" if pod_id else "deploysim.pod"
    return list(client().containers.list(all=True, filters={"label": label}))


@app.command()
def shell(
    pod: Annotated[str, typer.Argument(help="Pod id printed by `sandbox up`.")],
    user: Annotated[str, typer.Option(help="User to log in as.")] = "agent",
) -> None:
    """Open an interactive bash in a pod's workspace (needs the docker CLI).

    Example: deploysim sandbox shell 3f9a1c2b7d10
    """
    ws = [c for c in _containers(pod) if c.labels.get("deploysim.role") == "workspace"]
    if not ws:
        err_console.print(f"no pod {pod!r}; see `deploysim sandbox list`")
        raise typer.Exit(1)
    docker = shutil.which("docker")
    if docker is None:
        err_console.print("the docker CLI is needed for an interactive shell")
        raise typer.Exit(1)
    # The snapshot's variables are not image ENV (they would reach root): hand them to the
    # shell like Pod.exec hands them to the agent's commands, never to a root shell.
    env = json.loads(ws[0].labels.get("deploysim.env") or "{}") if user != "root" else {}
    flags = [arg for k, v in sorted(env.items()) for arg in ("-e", f"{k}={v}")]
    os.execv(docker, [docker, "exec", "-it", *flags, "-u", user, ws[0].id, "bash", "-l"])


@app.command("list")
def list_(json_out: JsonOpt = False) -> None:
    """List deploysim pods on this engine.

    Example: deploysim sandbox list --json
    """
    rows = [
        {
            "pod": c.labels.get("deploysim.pod"),
            "role": c.labels.get("deploysim.role"),
            "name": c.name,
            "status": c.status,
            "sample": c.labels.get("deploysim.sample"),
            "kept": c.labels.get("deploysim.keep") == "1",
        }
        for c in _containers(None)
    ]
    if json_out:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['pod']}  {r['role']:<9} {r['status']:<8} {r['name']}")


@app.command()
def down(
    pod: Annotated[str | None, typer.Argument(help="Pod id; omit with --all.")] = None,
    all_pods: Annotated[bool, typer.Option("--all", help="Remove every deploysim pod.")] = False,
) -> None:
    """Remove a pod started with `sandbox up` (or all pods with --all).

    Example: deploysim sandbox down 3f9a1c2b7d10
    """
    from deploysim.sandbox._paths import cache_dir, scratch_root

    if pod is None and not all_pods:
        err_console.print("give a pod id or --all")
        raise typer.Exit(2)
    found = _containers(pod)
    for c in found:
        c.remove(force=True, v=True)
        pod_id = c.labels.get("deploysim.pod", "")
        if pod_id:
            shutil.rmtree(scratch_root() / pod_id, ignore_errors=True)
            shutil.rmtree(cache_dir("pods") / pod_id, ignore_errors=True)  # older versions
    err_console.print(f"removed {len(found)} containers")


@app.command()
def gc(
    all_pods: Annotated[bool, typer.Option("--all", help="Also remove kept pods.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Remove containers and scratch folders left by runs that died (killed, crashed).

    A pod belongs to the process that started it (labels: pid, its start time, host); gc
    removes pods whose owner on this host is gone, except pods kept with `sandbox up`, and
    scratch folders no container uses. Every Pod.start does the same once per process.

    Example: deploysim sandbox gc --json
    """
    from deploysim.sandbox import gc as run_gc

    result = run_gc(everything=all_pods)
    if json_out:
        print_json(result._asdict())
    else:
        err_console.print(
            f"removed {len(result.removed)} containers and {len(result.folders)} scratch "
            f"folders, kept {len(result.kept)}"
        )
