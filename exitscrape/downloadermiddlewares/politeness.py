"""Politeness settings as a user reads them: an add-on that adjusts them before the crawl starts.

* ``USER_AGENT`` names the crawler and its contact URL (:func:`user_agent`); a contact URL set
  for a run (``-s EXITSCRAPE_CONTACT_URL=URL``) rebuilds it, unless ``USER_AGENT`` was itself
  set as high.
* AutoThrottle starts at ``max(DOWNLOAD_DELAY, AUTOTHROTTLE_START_DELAY)``: with the 1 s start
  delay, ``-s DOWNLOAD_DELAY=0`` still waited a second between requests, and as AutoThrottle
  never shortens its delay on answers other than 200, a rerun answered with 304s kept it (36
  pages on loopback: 45 s instead of 2 s). A ``DOWNLOAD_DELAY`` set above the start delay's
  priority is where AutoThrottle starts; it still slows down from there when the site does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exitscrape import __version__

if TYPE_CHECKING:  # exitscrape.settings builds USER_AGENT from here: no Scrapy import on load
    from scrapy.settings import BaseSettings


def user_agent(contact_url: str) -> str:
    """The User-Agent header: name, version, contact URL (the ``+URL`` convention) and purpose."""
    return (
        f"exitscrape/{__version__} (+{contact_url}; open research dataset of exit programmes; "
        "polite crawler)"
    )


def _priority(settings: BaseSettings, name: str) -> int:
    return settings.getpriority(name) or 0


class Politeness:
    """Scrapy add-on (``ADDONS``): see the module docstring."""

    def update_settings(self, settings: BaseSettings) -> None:
        contact = _priority(settings, "EXITSCRAPE_CONTACT_URL")
        if contact > _priority(settings, "USER_AGENT"):
            settings.set("USER_AGENT", user_agent(settings["EXITSCRAPE_CONTACT_URL"]), contact)
        delay = _priority(settings, "DOWNLOAD_DELAY")
        if delay > _priority(settings, "AUTOTHROTTLE_START_DELAY"):
            settings.set("AUTOTHROTTLE_START_DELAY", settings.getfloat("DOWNLOAD_DELAY"), delay)
