"""``python -m exitscrape``: the same as the ``exitscrape`` command."""

import sys

from exitscrape.cli import main

sys.exit(main())
