"""The documentation site: ``mkdocs build --strict`` succeeds with every example executed, the
generated pages hold what they promise, and headless Chromium shows the landing page and a
gallery page without console errors.

Needs the ``docs`` extra (part of ``test``); skipped with the reason when it is missing.
The build reruns every example (``INVARIANCE_DOCS_RERUN=true``), so an API change that breaks
one fails here even when a cached build would pass. Set ``INVARIANCE_SCREENSHOT_DIR`` to keep
the screenshots.
"""
from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS_MODULES = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "mkdocs_click",
                "mkdocs_gallery")
MISSING = [m for m in DOCS_MODULES if importlib.util.find_spec(m.split(".")[0]) is None
           or importlib.util.find_spec(m) is None]
EXAMPLES = sorted(p.stem for p in (ROOT / "docs" / "examples").glob("plot_*.py"))
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason=f"the docs extra is not installed (missing {', '.join(MISSING)}): "
                                             "pip install -e \".[docs]\""),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "INVARIANCE_DOCS_RERUN": "true", "MPLBACKEND": "Agg"}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-6000:]
    print(f"mkdocs build --strict: {time.monotonic() - start:.0f} s")
    return out


def test_build_executes_every_example(site):
    assert EXAMPLES, "no examples found in docs/examples"
    for stem in EXAMPLES:
        page = site / "generated" / "gallery" / stem / "index.html"
        assert page.is_file(), f"example {stem} has no page"
        html = page.read_text(encoding="utf-8")
        # every example makes at least one figure, embedded from the gallery's images
        assert re.search(r'<img[^>]+src="[^"]*images/mkd_glr_' + stem, html), f"example {stem} shows no figure"
        # a figure the example made but the gallery did not show is printed as its repr instead
        text = re.sub(r"<[^>]+>", "", html)
        assert "&lt;Figure size" not in text, f"example {stem} made a figure that the gallery does not show"


def test_generated_pages(site):
    schema = (site / "reference" / "schema" / "index.html").read_text(encoding="utf-8")
    sys.path.insert(0, str(ROOT / "scripts"))
    from schema_doc import sections  # noqa: E402

    for _, _, classes in sections():
        for cls in classes:
            assert f"<code>{cls.__name__}</code>" in schema
    for page in (site / "reproductions").rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "reference-table" not in text, f"{page}: a table marker was not replaced"
    assert len(list((site / "reproductions" / "img").glob("*.png"))) >= 5
    assert len(list((site / "concepts" / "img").glob("transform_*.png"))) == 4
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("run", "evaluate", "train", "curves", "report", "status", "filters"):
        assert f"invariance {command}" in cli
    api = (site / "reference" / "api" / "harness" / "index.html").read_text(encoding="utf-8")
    assert 'id="invariance.harness.evaluation.evaluate"' in api


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
@pytest.mark.parametrize("page", ["", "generated/gallery/plot_03_pooling_head/"], ids=["landing", "gallery"])
def test_page_renders_without_console_errors(served, page, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    shot = tmp_path / "page.png"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
           "--window-size=1280,1600", "--hide-scrollbars", "--virtual-time-budget=5000",
           f"--screenshot={shot}", f"{served}/{page}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000
    keep = os.environ.get("INVARIANCE_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / f"{page.strip('/').replace('/', '_') or 'landing'}.png")
    # the page's own messages: a failed load, a blocked resource or a script error shows here
    console = [line for line in out.stderr.splitlines()
               if "CONSOLE" in line or "Refused to" in line or "Uncaught" in line]
    assert console == []
