"""Texts of the bundled snapshot that were already incomplete in its source.

The snapshot's programme texts come from archived copies of the live pages (``README.md`` here,
"Values lost by the archive"): some lost their labelled fields, the lists after an introducing
sentence, or their end. A crawl gives them exactly as they are, which reads like an extraction
bug; the data card and the notebook name them, and say why.

Only for the snapshot, never for live-site data: a gap is reported when the crawl started on a
loopback address (where ``exitscrape crawl --snapshot`` and the tests serve the snapshot) *and*
the programme's text shows the archive's very cut. A crawl of the live site, or a copy whose
texts are whole, gets none.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: Why the snapshot's texts are incomplete, in one sentence.
WHY = (
    "the bundled snapshot was rebuilt from archived copies of the live pages, and the archive "
    "had lost these values; they are incomplete in the source, not cut by the extraction"
)
#: The fields the archive lost from some pages (name and country were kept).
_LOST_FIELDS = ("target_audience", "organisation", "objectives")


@dataclass(frozen=True)
class ArchiveGap:
    """What the archive lost of one programme's text."""

    name: str  # the programme's name, as the snapshot gives it
    what: str  # what is missing, in words
    ends_with: str | None = None  # the description ends where the archive cut it
    list_after: str | None = None  # the list that followed this sentence was lost
    fields_lost: bool = False  # Target audience, Organisation and Objectives were lost

    def shows_in(self, row: Mapping[str, Any]) -> bool:
        """Whether *row* (a programme, as a dict) has this very gap."""
        if str(row.get("name") or "").casefold() != self.name.casefold():
            return False
        description = row.get("description")
        description = description if isinstance(description, str) else ""
        if self.ends_with is not None:
            return description.endswith(self.ends_with)
        if self.list_after is not None:
            after = f"{self.list_after}\n\n"
            return after in description and f"{after}- " not in description
        return all(_empty(row.get(name)) for name in _LOST_FIELDS)


def _empty(value: Any) -> bool:
    return not (isinstance(value, str | list) and value)


_NO_FIELDS = "Target audience, Organisation and Objectives were not recovered"
ARCHIVE_GAPS = (
    ArchiveGap("Back on Track (BOT)", _NO_FIELDS, fields_lost=True),
    ArchiveGap("EXIT – Germany", _NO_FIELDS, fields_lost=True),
    ArchiveGap(
        "Radicalisation Prevention and Deradicalisation in Prison and Probation",
        _NO_FIELDS,
        fields_lost=True,
    ),
    ArchiveGap(
        "Research and Intervention on Violent Extremism (RIVE)", _NO_FIELDS, fields_lost=True
    ),
    ArchiveGap("Team TER (Terrorists, Extremists and Radicals)", _NO_FIELDS, fields_lost=True),
    *(
        ArchiveGap(
            "Back on Track (BOT)",
            f'the list after "…{sentence}" was not recovered',
            list_after=sentence,
        )
        for sentence in ("support inmates:", "conflicts by:", "implemented as follows:")
    ),
    *(
        ArchiveGap(
            "Healthy Identity Intervention (HII)",
            f'the list after "…{sentence}" was not recovered',
            list_after=sentence,
        )
        for sentence in ("four main priorities:", "offender rehabilitation:")
    ),
    ArchiveGap(
        "EXIT – Germany",
        'the description ends mid-sentence ("…in concrete practice")',
        ends_with="in concrete practice",
    ),
    ArchiveGap(
        "Radicalisation Prevention and Deradicalisation in Prison and Probation",
        'the description ends mid-word ("…detained for commi")',
        ends_with="detained for commi",
    ),
    ArchiveGap(
        "Research and Intervention on Violent Extremism (RIVE)",
        'the description ends mid-sentence ("…The")',
        ends_with="\n\nThe",
    ),
)


def is_loopback(url: str | None) -> bool:
    """Whether *url* is served from this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    host = urlsplit(url or "").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def archive_gaps(
    start_url: str | None, rows: Iterable[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], ArchiveGap]]:
    """The snapshot's known gaps that *rows* (programmes, from a crawl that started at
    *start_url*) show: none unless the crawl was of a loopback copy."""
    if not is_loopback(start_url):
        return []
    return [(row, gap) for row in rows for gap in ARCHIVE_GAPS if gap.shows_in(row)]
