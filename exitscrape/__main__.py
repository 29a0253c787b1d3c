"""``python -m exitscrape``: the same as the ``exitscrape`` command."""

from exitscrape.cli import run

run()
