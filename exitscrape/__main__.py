"""``python -m exitscrape``: the same as the ``exitscrape`` command."""

from exitscrape.cli import run

if __name__ == "__main__":  # not when a worker process imports it (multiprocessing's spawn)
    run()
