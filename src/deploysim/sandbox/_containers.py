"""The two containers of a pod, as engine ``create`` arguments, and the scratch folder.

Kept apart from :mod:`._pod` so the security-relevant settings (users, capabilities,
interpreters, mounts, limits) read in one place:

- the workspace runs the exec server as root holding SETUID, SETGID, KILL and DAC_READ_SEARCH,
  started by absolute path as an isolated interpreter; nothing from the snapshot is in its
  environment (the snapshot's variables go to the agent's commands only);
- the services sidecar starts as root holding only NET_BIND_SERVICE, SETUID and SETGID, binds
  127.0.0.1:80 and :443, then drops to its ``services`` user, which leaves it no capabilities.
  Privileged ports stay privileged in the shared network namespace (the workspace sets
  ``ip_unprivileged_port_start`` back to 1024, which Engine 20.10 lowers to 0), so the agent
  cannot take them over;
- in-pod paths show in the workspace's mountinfo and process list, so they do not say
  "deploysim"; the host side lies under a neutral :func:`scratch_root`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, NamedTuple

from deploysim.sandbox._lifecycle import OWNER_FILE, owner_labels
from deploysim.sandbox._paths import scratch_root

__all__ = [
    "EXEC_PROGRAM",
    "EXEC_SOCKET",
    "ROOT_PYTHON",
    "Scratch",
    "make_scratch",
    "services_spec",
    "workspace_spec",
]

EXEC_DIR = "/run/execd"
EXEC_SOCKET = f"{EXEC_DIR}/sock"
EXEC_PROGRAM_DIR = "/usr/lib/execd"
EXEC_PROGRAM = f"{EXEC_PROGRAM_DIR}/execd.py"
# Absolute interpreter, isolated (-I: no PYTHON* variables, no script folder, no user site),
# no site module (-S: no .pth or sitecustomize from /usr/local or /etc/python3*), no bytecode
# written (-B): nothing a snapshot can supply runs with the exec server's privileges.
ROOT_PYTHON = ["/usr/bin/python3", "-I", "-S", "-B"]
SIDECAR_PROGRAM = "/opt/deploysim/lib/deploysim/services/sidecar.py"
SIDECAR_LEASE_DIR = "/run/ws"
_EXEC_SERVER = Path(__file__).with_name("execserver.py")


class Scratch(NamedTuple):
    """A pod's host folder: the exec socket's folder, the exec server, the admin socket's."""

    root: Path
    run: Path
    lib: Path
    admin: Path


def make_scratch(pod_id: str) -> Scratch:
    """Create the pod's scratch folder, naming this process as its owner (for gc)."""
    root = scratch_root() / pod_id
    root.mkdir(mode=0o700)
    (root / OWNER_FILE).write_text(json.dumps(owner_labels()))
    sc = Scratch(root, root / "run", root / "lib", root / "admin")
    for sub in (sc.run, sc.lib, sc.admin):
        sub.mkdir(mode=0o700)
    shutil.copy(_EXEC_SERVER, sc.lib / "execd.py")
    return sc


def workspace_spec(
    image: str,
    sc: Scratch,
    *,
    user: str,
    workdir: str,
    hosts: list[str],
    tmpfs: dict[str, str],
    limits: Any,
    storage_opt: dict[str, str] | None,
    labels: dict[str, str],
) -> dict[str, Any]:
    """``containers.create`` arguments of the workspace."""
    return {
        "image": image,
        "command": [*ROOT_PYTHON, EXEC_PROGRAM, EXEC_SOCKET],
        "user": "root",
        "init": True,
        "network_mode": "none",
        "extra_hosts": {h: "127.0.0.1" for h in hosts} or None,
        "cap_drop": ["ALL"],
        "cap_add": ["SETUID", "SETGID", "DAC_READ_SEARCH", "KILL"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": limits.pids,
        "mem_limit": limits.memory,
        "nano_cpus": int(limits.cpus * 1e9),
        # Engine 20.10 sets this to 0 in every container: put the kernel's default back, so
        # ports below 1024 (the services' 80 and 443) stay out of the agent's reach.
        "sysctls": {"net.ipv4.ip_unprivileged_port_start": "1024"},
        "shm_size": limits.tmp,
        "tmpfs": tmpfs or None,
        "storage_opt": storage_opt,
        "volumes": {
            str(sc.run): {"bind": EXEC_DIR, "mode": "rw"},
            str(sc.lib): {"bind": EXEC_PROGRAM_DIR, "mode": "ro"},
        },
        # Only the agent's name: the snapshot's variables (LD_PRELOAD ...) never reach root.
        # MALLOC_*: the exec server's worker threads each get a glibc arena and, past a first
        # large read, a raised mmap threshold; both keep freed chunks resident (a 64 MiB file
        # read in 4 MiB chunks left it at 80 MiB). Fixed, large buffers go back at once.
        "environment": {
            "DEPLOYSIM_AGENT_USER": user,
            "MALLOC_ARENA_MAX": "2",
            "MALLOC_MMAP_THRESHOLD_": "131072",
        },
        "working_dir": workdir,
        "hostname": "workstation",
        "labels": {**labels, "deploysim.role": "workspace"},
        "detach": True,
    }


def services_spec(
    image: str,
    sc: Scratch,
    workspace_id: str,
    *,
    snapshot_dir: str,
    token: str,
    labels: dict[str, str],
) -> dict[str, Any]:
    """``containers.create`` arguments of the services sidecar."""
    return {
        "image": image,
        "command": [
            *ROOT_PYTHON,
            SIDECAR_PROGRAM,
            "--snapshot",
            snapshot_dir,
            "--state",
            "/var/lib/deploysim/state",
            "--admin-socket",
            "/run/deploysim-admin/admin.sock",
            "--user",
            "services",
            "--follow",
            f"{SIDECAR_LEASE_DIR}/sock",
        ],
        "user": "root",
        "init": True,
        "network_mode": f"container:{workspace_id}",
        "cap_drop": ["ALL"],
        "cap_add": ["NET_BIND_SERVICE", "SETUID", "SETGID"],
        "security_opt": ["no-new-privileges"],
        "pids_limit": 256,
        "mem_limit": "512m",
        "volumes": {
            str(sc.admin): {"bind": "/run/deploysim-admin", "mode": "rw"},
            str(sc.run): {"bind": SIDECAR_LEASE_DIR, "mode": "rw"},
        },
        "environment": {"DEPLOYSIM_ADMIN_TOKEN": token},
        "labels": {**labels, "deploysim.role": "services"},
        "detach": True,
    }
