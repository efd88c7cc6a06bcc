"""Which paths a snapshot may not supply: the operating system the harness runs on.

A snapshot describes the agent's world (homes, projects, data, app configs, services). It never
describes the system that runs the harness: the user database, authentication, the dynamic
loader, the interpreter and libraries the in-pod exec server (root) runs on, the kernel's
pseudo-filesystems, or deploysim's own folders. A trace that *showed* such a file (``cat
/etc/passwd``) is an observation, not state to rebuild: the image's own file wins.

The same goes for environment variables that steer the loader or the interpreter.

One rule, used by ``reconstruct`` (which skips such observations), ``snapshot validate`` and
loading (which refuse them), and the image build (which refuses them again).

::

    system_path_reason("/etc/passwd")        # 'the user database ...'
    system_path_reason("/home/agent/a.txt")  # None
"""

from __future__ import annotations

import fnmatch
import posixpath

__all__ = [
    "SYSTEM_DIRS",
    "SYSTEM_ENV",
    "SYSTEM_ENV_PREFIXES",
    "SYSTEM_FILES",
    "SYSTEM_PATTERNS",
    "SYSTEM_TREES",
    "forbidden_mode_bits",
    "system_env_reason",
    "system_path_reason",
]

# Whole trees owned by the operating system or by deploysim. /usr/local stays the user's.
SYSTEM_TREES: dict[str, str] = {
    "/bin": "system binaries",
    "/sbin": "system binaries",
    "/lib": "system libraries",
    "/lib32": "system libraries",
    "/lib64": "system libraries",
    "/libx32": "system libraries",
    "/usr/bin": "system binaries",
    "/usr/sbin": "system binaries",
    "/usr/lib": "system libraries and the interpreter",
    "/usr/lib32": "system libraries",
    "/usr/lib64": "system libraries",
    "/usr/libexec": "system helpers",
    "/usr/share/ca-certificates": "the TLS trust store",
    "/boot": "the boot loader",
    "/dev": "a kernel pseudo-filesystem",
    "/proc": "a kernel pseudo-filesystem",
    "/sys": "a kernel pseudo-filesystem",
    "/run": "runtime state of the harness",
    "/var/run": "runtime state of the harness",
    "/var/lock": "runtime state of the harness",
    "/opt/deploysim": "deploysim's own programs",
    "/var/lib/deploysim": "deploysim's own state",
    "/var/lib/dpkg": "the package database",
    "/etc/sudoers.d": "privilege rules",
    "/etc/pam.d": "authentication (PAM)",
    "/etc/security": "authentication limits",
    "/etc/ld.so.conf.d": "the dynamic loader's configuration",
    "/etc/ssl": "the TLS trust store",
    "/etc/ca-certificates": "the TLS trust store",
    "/etc/alternatives": "system binaries",
}

# Single files under /etc that decide who is who and what runs with privilege.
SYSTEM_FILES: dict[str, str] = {
    "/etc/passwd": "the user database",
    "/etc/group": "the user database",
    "/etc/shadow": "the user database",
    "/etc/gshadow": "the user database",
    "/etc/subuid": "the user database",
    "/etc/subgid": "the user database",
    "/etc/nsswitch.conf": "name-service configuration",
    "/etc/login.defs": "login configuration",
    "/etc/sudoers": "privilege rules",
    "/etc/doas.conf": "privilege rules",
    "/etc/ld.so.preload": "the dynamic loader's configuration",
    "/etc/ld.so.conf": "the dynamic loader's configuration",
    "/etc/ld.so.cache": "the dynamic loader's configuration",
    "/etc/hosts": "name resolution, managed by the harness",
    "/etc/hostname": "managed by the engine",
    "/etc/resolv.conf": "managed by the engine",
}


# Folders of the image itself: what lies inside may be the snapshot's, but an entry *at* one
# of them would set its owner and mode (a directory owned by the agent), or replace the whole
# folder with a link or a file when the image is built.
SYSTEM_DIRS: frozenset[str] = frozenset(
    {
        "/",
        "/etc",
        "/etc/default",
        "/etc/profile.d",
        "/home",
        "/media",
        "/mnt",
        "/opt",
        "/root",
        "/srv",
        "/tmp",
        "/usr",
        "/usr/local",
        "/usr/local/bin",
        "/usr/local/etc",
        "/usr/local/include",
        "/usr/local/lib",
        "/usr/local/sbin",
        "/usr/local/share",
        "/usr/local/src",
        "/usr/share",
        "/var",
        "/var/cache",
        "/var/lib",
        "/var/local",
        "/var/log",
        "/var/mail",
        "/var/opt",
        "/var/spool",
        "/var/tmp",
    }
)

# Trees whose name carries a version: the interpreter the root exec server runs imports
# sitecustomize and .pth files from these (Debian links /usr/lib/python3.X/sitecustomize.py
# to /etc/python3.X/), so a file there would run as root in the pod.
SYSTEM_PATTERNS: dict[str, str] = {
    "/usr/local/lib/python3*": "the interpreter's site packages (imported by the root exec server)",
    "/etc/python3*": "the interpreter's configuration (imported by the root exec server)",
}

# Environment variables that steer the loader, the interpreter or deploysim's own processes.
# A snapshot's env reaches processes the harness runs as root, so it may not set these.
SYSTEM_ENV_PREFIXES: dict[str, str] = {
    "LD_": "the dynamic loader",
    "PYTHON": "the Python interpreter the harness runs on",
}
SYSTEM_ENV: dict[str, str] = {
    "DEPLOYSIM_AGENT_USER": "the agent's user, chosen by the harness",
    "DEPLOYSIM_ADMIN_TOKEN": "the services sidecar's admin token",
    "DEPLOYSIM_HOSTS": "the mocked hostnames, managed by the harness",
    "DEPLOYSIM_CACHE": "deploysim's own folders",
    "DEPLOYSIM_BASE_BUILD": "how deploysim builds its images",
}


def _normal(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/")) if path else "/"


def system_path_reason(path: str) -> str | None:
    """Why ``path`` is a system path a snapshot may not supply, or None when it may.

    The path is normalized first, so ``/etc/../etc/passwd`` and ``//etc/passwd`` are caught.
    What lies in the folders that hold user data (``/etc/myapp.conf``, ``/usr/local/bin/x``)
    is not a system path; those folders themselves (:data:`SYSTEM_DIRS`) are, and so is
    what lies in the listed files and trees.
    """
    p = _normal(path)
    if p in SYSTEM_FILES:
        return SYSTEM_FILES[p]
    if p in SYSTEM_DIRS:
        return "a folder of the image itself (its owner and mode stay the image's)"
    for tree, why in SYSTEM_TREES.items():
        if p == tree or p.startswith(tree + "/"):
            return why
    parts = p.split("/")
    for pattern, why in SYSTEM_PATTERNS.items():
        n = pattern.count("/") + 1
        if len(parts) >= n and fnmatch.fnmatchcase("/".join(parts[:n]), pattern):
            return why
    return None


def system_env_reason(name: str) -> str | None:
    """Why a snapshot may not set the environment variable ``name``, or None when it may."""
    upper = name.upper()
    if upper in SYSTEM_ENV:
        return SYSTEM_ENV[upper]
    for prefix, why in SYSTEM_ENV_PREFIXES.items():
        if upper.startswith(prefix):
            return why
    return None


def forbidden_mode_bits(mode: int) -> int:
    """The setuid, setgid and sticky-on-file bits of ``mode``: never taken from a snapshot."""
    return mode & 0o6000
