"""`exitscrape diff`: a one-word change in a long description shows that word, with context; lists
as items added and removed; --json has the full values. Over the `edited_versions` crawls."""

from __future__ import annotations

import json

from exitscrape.dataset.diff import MAX_TOKENS, describe_change, word_diff
from exitscrape.dataset.store import DatasetStore
from tests.conftest import run_cli

HII = "healthy-identity-intervention-hii-gb"
MENTORING = "mentoring-programme-no"


def test_a_one_word_change_in_a_long_description_shows_that_word(edited_versions):
    data = edited_versions.data_dir
    old, new = DatasetStore(data).versions()
    result = run_cli("diff", old, new, "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    changed = lines.index(next(line for line in lines if line.startswith(f"~ changed  {HII}")))
    assert lines[changed].endswith(": description")
    assert lines[changed + 1] == (
        "    description: … the then minister, Lord Bach, in [-February-]{+March+} 2009, who "
        "mentioned that this work …"
    )
    assert '    organisation: "Ministry of Justice and Public Security" → "Ministry of ' in (
        result.stdout
    )
    assert "    differing_copies: + http://" in result.stdout  # a list: the item added

    as_json = json.loads(run_cli("diff", old, new, "--data-dir", str(data), "--json").stdout)
    description = as_json["changed"][HII]["description"]
    rows = {r["programme_id"]: r for r in DatasetStore(data).read("programmes", new).to_pylist()}
    assert description["new"] == rows[HII]["description"]  # the whole text, not a prefix
    assert "February 2009" in description["old"] and len(description["old"]) > 1000
    copies = as_json["changed"][MENTORING]["differing_copies"]
    assert copies["old"] == [] and copies["added"] == copies["new"] and copies["removed"] == []


def test_word_diff_and_list_changes() -> None:
    old = " ".join(f"w{i}" for i in range(40)) + "\n\nend"
    new = old.replace("w5 ", "w5 extra ").replace("w30", "W30").replace("\n\nend", "\nend")
    assert word_diff(old, new, context=2) == [
        "… w4 w5 {+extra+} w6 w7 …",
        "… w28 w29 [-w30-]{+W30+} w31 w32 …",
        "… w39 ↵ [-↵-] end",
    ]
    assert word_diff("a b", "x a b") == ["{+x+} a b"]
    assert describe_change(["a", "b"], ["b", "c"]) == ["+ c", "- a"]
    assert describe_change([{"author": "RAN", "year": 2016}], []) == ["- RAN, 2016"]
    assert describe_change("short", None) == ['"short" → (none)']


def test_a_huge_text_is_compared_line_by_line_and_in_bounded_time() -> None:
    """A hostile page may hold megabytes of text: comparing it word by word would take hours."""
    line = " ".join(f"w{i}" for i in range(100))
    old = "\n".join(f"{i} {line}" for i in range(MAX_TOKENS // 50))  # 2 × MAX_TOKENS words
    new = old.replace("\n7 w0", "\n7 x0")
    (hunk,) = word_diff(old, new)
    assert "[-7 w0 w1" in hunk and "{+7 x0 w1" in hunk and len(hunk) < 1000
    endless = "a\n" * (MAX_TOKENS + 1)
    assert word_diff(endless, endless + "b")[0].endswith("(too long to compare)")
