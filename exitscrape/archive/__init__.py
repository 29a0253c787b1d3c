"""Reading the site from web archives: Wayback-style replay (:mod:`.replay`) and the CDX API
(:mod:`.cdx`). Pure: no Scrapy."""
