"""Reading the site from web archives: Wayback-style replay (:mod:`.replay`), the CDX API
(:mod:`.cdx`), archive mode for a crawl (:mod:`.addon`, :mod:`.handler`) and backfills of the
site's history (:mod:`.backfill`)."""
