"""``python -m ssgen`` runs the command line."""

from ssgen.cli.entry import run

run()
