"""Stable programme ids across renames.

A crawl names each programme by its name and country (:func:`exitscrape.dataset.assemble.slug`);
a programme renamed on the site (same URL, new name) would get a new id. :func:`carry_ids` gives
it back the id it had in the previous version.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pyarrow as pa


def carry_ids(new: pa.Table, previous: pa.Table | None) -> pa.Table:
    """*new* programmes, each with the id of the *previous* version's programme it shares a
    source URL with, when its own id is new and no other new programme claims that one.

    A programme whose computed id the previous version already has keeps it (it is that
    programme, found at one more URL, say). When several previous programmes share URLs with
    one new programme, it takes the id of the one sharing most, then the smallest id; new
    programmes claim in the order of their computed ids. Rows come back sorted by id.
    """
    if previous is None or new.num_rows == 0:
        return new
    owners: dict[str, set[str]] = defaultdict(set)
    for pid, urls in zip(
        previous.column("programme_id").to_pylist(),
        previous.column("source_urls").to_pylist(),
        strict=True,
    ):
        for url in urls or ():
            owners[url].add(pid)
    previous_ids = set(previous.column("programme_id").to_pylist())
    computed = new.column("programme_id").to_pylist()
    source_urls = new.column("source_urls").to_pylist()
    unavailable = set(computed)  # an id a new programme computes for itself stays its own
    ids = list(computed)
    for row in sorted(range(len(computed)), key=computed.__getitem__):
        if computed[row] in previous_ids:
            continue
        shared = Counter(pid for url in set(source_urls[row] or ()) for pid in owners.get(url, ()))
        candidates = [(-count, pid) for pid, count in shared.items() if pid not in unavailable]
        if candidates:
            ids[row] = min(candidates)[1]
            unavailable.add(ids[row])
    if ids == computed:
        return new
    index = new.schema.get_field_index("programme_id")
    field = new.schema.field(index)
    carried = new.set_column(index, field, pa.array(ids, field.type))
    return carried.sort_by("programme_id")
