"""``python -m ratecard``: the same command line as the ``ratecard`` script."""

from ratecard.cli import app

app()
