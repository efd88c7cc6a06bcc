"""``python -m deploysim`` runs the CLI."""

from deploysim.cli import main

main()
