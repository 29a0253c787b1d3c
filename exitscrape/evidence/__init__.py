"""Evidence: every page as fetched, kept with the version it became (``captures.warc.gz``).

:mod:`~exitscrape.evidence.writer` and :mod:`~exitscrape.evidence.reader` write and read the
captures (WARC, with warcio; Scrapy-free),
:mod:`~exitscrape.evidence.capture` records a crawl's HTTP exchanges as they happen,
:mod:`~exitscrape.evidence.replay` answers a crawl from a version's captures instead of the
network (``exitscrape rebuild``), and :mod:`~exitscrape.evidence.verify` checks a version's
captures against its pages table (Scrapy-free).
"""
