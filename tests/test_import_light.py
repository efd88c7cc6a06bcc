import subprocess
import sys


def test_import_deploysim_is_light() -> None:
    """`import deploysim`, the trace API and the CLI do not import docker, fastapi, inspect_ai."""
    code = (
        "import sys, deploysim, deploysim.traces, deploysim.errors, deploysim.cli;"
        "import deploysim.traces as t; t.importer_names();"
        "heavy = [m for m in ('docker', 'fastapi', 'inspect_ai') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
