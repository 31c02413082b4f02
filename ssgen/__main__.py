"""``python -m ssgen`` runs the command line."""

from ssgen.cli.app import run

run()
