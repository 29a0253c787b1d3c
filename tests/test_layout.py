"""The package's architecture, read from its code: what each layer may import, what sits where."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "exitscrape"

#: Layer -> modules (prefixes) it must never import, at any level of its code.
FORBIDDEN = {
    "exitscrape.extraction": (
        "exitscrape.spiders",
        "exitscrape.pipelines",
        "exitscrape.extensions",
        "exitscrape.incremental",
        "exitscrape.dataset",
        "exitscrape.release",
        "exitscrape.cli",
    ),
    "exitscrape.dataset": (
        "scrapy",
        "twisted",
        "exitscrape.spiders",
        "exitscrape.pipelines",
        "exitscrape.extensions",
        "exitscrape.extraction",
        "exitscrape.evidence",
        "exitscrape.cli",
    ),
    # The captures' writer runs as a process of its own: the standard library and warcio only.
    "exitscrape.evidence.writer": ("scrapy", "twisted", "pyarrow", "exitscrape."),
    # Reading and checking captures (verify, show, release) needs no crawler.
    "exitscrape.evidence.reader": ("scrapy", "twisted", "exitscrape.spiders"),
    "exitscrape.evidence.verify": ("scrapy", "twisted", "exitscrape.spiders"),
    "exitscrape.release": ("scrapy", "twisted", "exitscrape.spiders", "exitscrape.extensions"),
    "exitscrape.pipelines": ("exitscrape.dataset.store", "exitscrape.release"),
    "exitscrape.items": ("scrapy", "twisted", "exitscrape."),
}


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module *path* imports, absolute, wherever the import statement is."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_layout_is_read() -> None:
    assert len(MODULES) > 40
    assert "exitscrape.dataset.store" in _imports(PACKAGE / "extensions" / "publish.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module(p))
def test_layers_import_only_what_they_may(path: Path) -> None:
    module = _module(path)
    for layer, forbidden in FORBIDDEN.items():
        if module == layer or module.startswith(layer + "."):
            bad = sorted(
                name
                for name in _imports(path)
                if any(
                    name == f or name.startswith(f if f.endswith(".") else f + ".")
                    for f in forbidden
                )
            )
            assert not bad, f"{module} ({layer}) imports {bad}"


def test_only_entry_points_items_and_settings_sit_at_the_top() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "items.py", "settings.py"]


def test_no_component_reads_the_spider_by_getattr() -> None:
    pattern = re.compile(r"getattr\(\s*(self\.|crawler\.|self\.crawler\.)?spider\b")
    offenders = [str(p) for p in MODULES if pattern.search(p.read_text())]
    assert not offenders


def test_the_captures_writer_process_imports_neither_pyarrow_nor_scrapy() -> None:
    """What ``python -m exitscrape.evidence.writer`` loads: the package itself must stay light."""
    code = "import sys, exitscrape.evidence.writer; print(sorted(sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    loaded = result.stdout
    assert "'warcio'" in loaded and "'pyarrow'" not in loaded and "'scrapy'" not in loaded


def test_the_package_declares_its_types() -> None:
    assert (PACKAGE / "py.typed").is_file()
