"""``python -m ssgen`` runs the command line."""

from ssgen.cli import run

run()
