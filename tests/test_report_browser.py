"""report.html in a real headless browser (Debian ``chromium``): it loads, logs no errors and
every image renders. Skipped when no chromium is installed; ``-m browser`` selects it."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from plot_tables import shared_study

pytestmark = pytest.mark.browser

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")

# Writes what the page holds into the DOM once it has loaded, for --dump-dom to read back.
CHECK = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; });
  var out = document.createElement("pre");
  out.id = "img-check";
  out.textContent = "images=" + imgs.length + " broken=" + broken.length +
    " widths=" + imgs.map(function (i) { return i.naturalWidth; }).join(",") +
    " sections=" + document.querySelectorAll("section").length;
  document.body.appendChild(out);
});
</script>"""


def _chromium(tmp_path, *args, timeout=120):
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"  # a fresh profile each time
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return shared_study(tmp_path_factory) / "report.html"


def test_every_image_renders(report_html, tmp_path):
    html = report_html.read_text(encoding="utf-8")
    n_img = html.count("<img ")
    # the page itself runs no script; its policy is relaxed only in this copy, for the probe
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
                     .replace("</body>", CHECK + "</body>"), encoding="utf-8")
    out = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    found = re.search(r'<pre id="img-check">images=(\d+) broken=(\d+) widths=([\d,]*) sections=(\d+)</pre>',
                      out.stdout)
    assert found, out.stdout[-2000:]
    images, broken, widths, sections = found.groups()
    assert int(images) == n_img >= 10
    assert int(broken) == 0
    assert all(int(w) > 300 for w in widths.split(","))
    assert int(sections) == 7  # with "Figures not made": the fixture's mlp runs keep no model for the filters


def test_page_loads_offline_without_console_errors(report_html, tmp_path):
    shot = tmp_path / "report.png"
    out = _chromium(tmp_path, "--enable-logging=stderr", "--v=0", "--window-size=1280,2000",
                    "--hide-scrollbars", f"--screenshot={shot}", report_html.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    # the page's own messages: a blocked load (CSP) or a script error would show here
    console = [line for line in out.stderr.splitlines() if "CONSOLE" in line or "Refused to" in line]
    assert console == []
