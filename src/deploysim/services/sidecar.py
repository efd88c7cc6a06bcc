"""Entry point of the services sidecar: serve a snapshot's services inside the pod.

Runs in the sidecar container (``python3 -m deploysim.services.sidecar``), which shares the
workspace's network namespace: plain HTTP on 127.0.0.1:80, HTTPS on 127.0.0.1:443 with the
snapshot's server certificate, and the admin/tool API on a unix socket in a folder only the
host can reach. Writes ``ready`` beside the socket once all three listen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path


async def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from deploysim.services import create_app

    token = os.environ.get("DEPLOYSIM_ADMIN_TOKEN") or None
    app = create_app(args.snapshot, args.state, admin_token=token)
    configs = [
        uvicorn.Config(
            app,
            uds=args.admin_socket,
            log_level="warning",
            server_header=False,
            date_header=True,
            lifespan="off",
            access_log=False,
        )
    ]
    if not args.no_tcp:
        configs.append(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=80,
                log_level="warning",
                server_header=False,
                date_header=True,
                lifespan="off",
                access_log=False,
            )
        )
        configs.append(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=443,
                log_level="warning",
                server_header=False,
                date_header=True,
                lifespan="off",
                access_log=False,
                ssl_certfile=args.tls_cert,
                ssl_keyfile=args.tls_key,
            )
        )
    servers = [uvicorn.Server(c) for c in configs]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
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
    """Parse arguments and serve until killed."""
    p = argparse.ArgumentParser(prog="deploysim.services.sidecar")
    p.add_argument("--snapshot", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--admin-socket", required=True)
    p.add_argument("--tls-cert", default="/opt/deploysim/tls/server.pem")
    p.add_argument("--tls-key", default="/opt/deploysim/tls/server.key")
    p.add_argument("--no-tcp", action="store_true", help="Admin socket only (tests).")
    asyncio.run(_serve(p.parse_args()))


if __name__ == "__main__":
    main()
