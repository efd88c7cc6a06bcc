"""Entry point of the services sidecar: serve a snapshot's services inside the pod.

Runs in the sidecar container, which shares the workspace's network namespace: plain HTTP on
127.0.0.1:80, HTTPS on 127.0.0.1:443 with the snapshot's server certificate, and the admin/tool
API on a unix socket in a folder only the host can reach. Writes ``ready`` beside the socket
once all three listen.

Started as root (``/usr/bin/python3 -I -S -B .../sidecar.py --user services``) holding only
NET_BIND_SERVICE, SETUID and SETGID: it binds the two privileged ports, opens its ``--follow``
lease to the workspace's exec server, then drops to ``--user`` for good (the kernel clears
the capabilities on that uid change) before importing anything but the standard library.
Ports below 1024 thus stay privileged in the pod, out of the agent's reach. With ``--follow``
it exits when the exec server does (the workspace stopped), so a pod whose host died stops
whole. Started as a non-root user it binds the ports itself, as before.
"""

from __future__ import annotations

import argparse
import asyncio
import grp
import os
import pwd
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

_LIB = str(Path(__file__).resolve().parents[2])  # the folder holding the deploysim package


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def _follow(path: str) -> None:
    """Hold a lease on the exec server; exit the moment it ends (the workspace stopped)."""
    lease = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    deadline = time.monotonic() + 30
    while True:  # under compose the workspace may still be starting
        try:
            lease.connect(path)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    lease.sendall(b'{"op": "lease", "role": "follower"}\n')

    def watch() -> None:
        while True:
            try:
                if not lease.recv(4096):
                    break
            except OSError:
                break
        os._exit(0)

    threading.Thread(target=watch, name="lease", daemon=True).start()


def _drop_to(user: str) -> None:
    """Become ``user`` for good and check it took (ids, groups, no capabilities).

    Raises:
        SystemExit: the drop did not take; the sidecar must not serve as root.
    """
    entry = pwd.getpwnam(user)
    groups = sorted({entry.pw_gid, *(g.gr_gid for g in grp.getgrall() if user in g.gr_mem)})
    os.setgroups(groups)
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    with open("/proc/self/status") as f:
        caps = [ln for ln in f if ln.startswith(("CapPrm:", "CapEff:")) and int(ln.split()[1], 16)]
    if os.getresuid() != (entry.pw_uid,) * 3 or os.getresgid() != (entry.pw_gid,) * 3 or caps:
        raise SystemExit(f"sidecar: dropping to {user} did not take: {caps}")
    os.environ["HOME"] = entry.pw_dir


async def _serve(args: argparse.Namespace, sockets: dict[int, socket.socket]) -> None:
    import uvicorn

    from deploysim.services import create_app

    token = os.environ.get("DEPLOYSIM_ADMIN_TOKEN") or None
    app = create_app(args.snapshot, args.state, admin_token=token)
    common: dict[str, Any] = {
        "log_level": "warning",
        "server_header": False,
        "date_header": True,
        "lifespan": "off",
        "access_log": False,
    }
    configs: list[tuple[uvicorn.Config, list[socket.socket] | None]] = [
        (uvicorn.Config(app, uds=args.admin_socket, **common), None)
    ]
    if not args.no_tcp:
        tls = {"ssl_certfile": args.tls_cert, "ssl_keyfile": args.tls_key}
        for port, extra in ((80, {}), (443, tls)):
            pre = [sockets[port]] if port in sockets else None
            configs.append(
                (uvicorn.Config(app, host="127.0.0.1", port=port, **common, **extra), pre)
            )
    servers = [uvicorn.Server(c) for c, _ in configs]
    tasks = [
        asyncio.create_task(s.serve(sockets=pre))
        for s, (_, pre) in zip(servers, configs, strict=True)
    ]
    while not all(s.started for s in servers):
        done = [t for t in tasks if t.done()]
        if done:
            await done[0]  # re-raise why a server stopped
            raise SystemExit(f"a server stopped before starting: {done[0]}")
        await asyncio.sleep(0.005)
    os.chmod(args.admin_socket, 0o600)
    Path(args.admin_socket).with_name("ready").write_text(str(os.getpid()))
    await asyncio.gather(*tasks)


def main() -> None:
    """Parse arguments, bind and drop privileges when root, serve until killed."""
    p = argparse.ArgumentParser(prog="deploysim.services.sidecar")
    p.add_argument("--snapshot", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--admin-socket", required=True)
    p.add_argument("--tls-cert", default="/opt/deploysim/tls/server.pem")
    p.add_argument("--tls-key", default="/opt/deploysim/tls/server.key")
    p.add_argument("--no-tcp", action="store_true", help="Admin socket only (tests).")
    p.add_argument("--user", default="services", help="User to serve as when started as root.")
    p.add_argument("--follow", help="Exec server socket to hold a lease on; exit when it ends.")
    args = p.parse_args()
    sockets: dict[int, socket.socket] = {}
    if os.geteuid() == 0:
        if not args.no_tcp:
            sockets = {port: _bind(port) for port in (80, 443)}
        if args.follow:
            _follow(args.follow)
        _drop_to(args.user)
    elif args.follow:
        _follow(args.follow)
    if _LIB not in sys.path:
        sys.path.insert(0, _LIB)  # run as a file under -I: the package is not on the path yet
    asyncio.run(_serve(args, sockets))


if __name__ == "__main__":
    main()
