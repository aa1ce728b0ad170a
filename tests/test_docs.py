"""The documentation's code runs and its site builds.

Every ```python block of README.md and of docs/**/*.md is executed: the blocks of one page
in order and in one namespace (a page builds on its earlier blocks), in a fresh working
directory. A block whose fence has a title starting with "needs" (```python title="needs
your COCO files"```) is not run: it needs data or machines only the user has, and the
title, shown on the page, says which. Shell blocks are never run. `mkdocs build --strict`
must succeed (a broken link or anchor, a page missing from the site, a docstring that
mkdocstrings cannot read fails it), and the README's links must point at files.
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A fence at the start of a line: ```python, then attributes (title="..."), the code, ```.
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)
NOT_RUN = re.compile(r'title="needs\b', re.I)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def pages():
    """README.md and every Markdown file under docs/, as paths relative to the root."""
    found = ["README.md"]
    for folder, _, files in os.walk(os.path.join(ROOT, "docs")):
        found += [os.path.relpath(os.path.join(folder, name), ROOT)
                  for name in files if name.endswith(".md")]
    return sorted(found)


def python_blocks(text):
    """``[(line, code, run)]`` of a page's ```python blocks (line: 1-based, the fence's)."""
    return [(text.count("\n", 0, match.start()) + 1, match.group(2),
             not NOT_RUN.search(match.group(1)))
            for match in FENCE.finditer(text)]


def _read(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        return f.read()


@pytest.mark.no_keras_state
def test_the_block_finder_sees_run_and_not_run_blocks():
    text = ('# t\n\n```python\nx = 1\n```\n\n```python title="needs your COCO files"\n'
            'load("/data/coco")\n```\n\n```bash\nls\n```\n')
    assert python_blocks(text) == [(3, "x = 1\n", True), (7, 'load("/data/coco")\n', False)]


@pytest.mark.no_keras_state
@pytest.mark.parametrize("page", pages())
def test_no_python_block_is_indented(page):
    """An indented fence (in a list or an admonition) would escape `FENCE`: none exist."""
    indented = [n for n, line in enumerate(_read(page).splitlines(), 1)
                if re.match(r"\s+```python", line)]
    assert not indented, f"{page}: indented ```python fences at lines {indented}"


@pytest.mark.parametrize("page", [p for p in pages() if python_blocks(_read(p))])
def test_the_pages_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for line, code, run in python_blocks(_read(page)):
        if run:  # the traceback names the page and the line
            exec(compile(code, f"{page}:{line + 1}", "exec"), namespace)  # noqa: S102


@pytest.mark.no_keras_state
@pytest.mark.parametrize("page", ["README.md", "bench/README.md"])
def test_the_readmes_links_point_at_files(page):
    """mkdocs checks the site's links; these two pages are read on GitHub, outside it."""
    folder = os.path.dirname(os.path.join(ROOT, page))
    targets = [t.split("#")[0] for t in LINK.findall(_read(page)) if "://" not in t]
    missing = [t for t in targets if t and not os.path.exists(os.path.join(folder, t))]
    assert not missing, f"{page} links to missing files: {missing}"


@pytest.mark.large
@pytest.mark.no_keras_state
def test_the_site_builds_strictly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
         str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert os.path.isfile(tmp_path / "site" / "api" / "models" / "index.html")
