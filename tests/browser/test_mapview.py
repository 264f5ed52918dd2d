"""The mind-map viewer (openplate/web/static/mapview.js) on a picture from render_svg, in Chromium.

No Openplate server: each test serves one page, mapview.js, mapview.css, the site's style sheet
and the packaged Noto fonts from memory through Playwright's routing, under the site's own
Content-Security-Policy. At 1280 and 390 px wide it checks that every line of text lies inside
its box (Latin, CJK, Arabic, Hebrew, emoji, very long titles), that folding hides a branch and
unfolding brings it back (click, Enter, the toolbar), that keys, wheel, drag and pinch move and
zoom the view, and that axe-core finds nothing serious. Screenshots go to ``/tmp/picture-shots``
(or ``$OPENPLATE_TEST_SHOTS``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from openplate.library.model import Topic
from openplate.library.picture import render_svg
from openplate.web.middleware import PAGE_CSP
from tests.browser.test_forms import AXE
from tests.library.picture.maps import scripts_map

pytestmark = pytest.mark.browser

ORIGIN = "http://mapview.test"
STATIC = Path(__file__).resolve().parents[2] / "openplate" / "web" / "static"
WIDTHS = [1280, 390]
FONTS = {
    "/fonts/cjk.ttc": ("noto_cjk_sans_otc", "NotoSansCJK-Regular.ttc"),
    "/fonts/emoji.ttf": ("manimgx_fonts", "NotoEmoji[wght].ttf"),
}
#: The families the SVG names; here they come from the packaged files.
FONT_CSS = (
    '@font-face { font-family: "Noto Sans CJK JP"; src: url("/fonts/cjk.ttc"); }\n'
    '@font-face { font-family: "Noto Emoji"; src: url("/fonts/emoji.ttf"); }\n'
)


def _shots() -> Path:
    folder = Path(os.environ.get("OPENPLATE_TEST_SHOTS") or "/tmp/picture-shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


#: Puts the picture in the page once the test fonts are loaded (Chromium does not always lay
#: SVG text out again when a web font arrives late), then starts the viewer if asked to.
BOOT_JS = r"""
Promise.all(['12px "Noto Sans CJK JP"', '12px "Noto Emoji"']
    .map(font => document.fonts.load(font, '\u9577\ud83d\ude42'))).then(loaded => {
  const figure = document.querySelector('figure.mapview');
  figure.prepend(document.getElementById('picture').content.cloneNode(true));
  document.body.dataset.fonts = loaded.map(faces => faces.length).join(' ');
  if (document.body.dataset.viewer === 'on') {
    const script = document.createElement('script');
    script.src = '/static/mapview.js';
    script.onload = () => { document.body.dataset.ready = 'yes'; };
    document.head.append(script);
  } else {
    document.body.dataset.ready = 'yes';
  }
});
"""


def _page_html(svg: str, *, script: bool) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>A map · Openplate</title>"
        '<link rel="stylesheet" href="/static/site.css">'
        '<link rel="stylesheet" href="/static/mapview.css">'
        '<link rel="stylesheet" href="/fonts.css">'
        '<script src="/boot.js" defer></script></head>'
        f'<body data-viewer="{"on" if script else "off"}">'
        '<main id="main"><h1>A map</h1>'
        f'<template id="picture">{svg}</template>'
        '<figure class="mapview" data-mapview>'
        f"<figcaption>{escape('The picture of the map')}</figcaption></figure>"
        "</main></body></html>"
    )


class Site:
    """Routes one page and its files; records what the CSP refused."""

    def __init__(self, page: Page, svg: str, *, script: bool = True) -> None:
        self.page = page
        self.html = _page_html(svg, script=script)
        self.refused: list[str] = []
        page.on("console", lambda m: self.refused.append(m.text) if "Refused" in m.text else None)
        page.route(f"{ORIGIN}/**", self._serve)

    def _serve(self, route: Route) -> None:
        path = route.request.url[len(ORIGIN):].split("?")[0]
        headers = {"content-security-policy": PAGE_CSP}
        if path == "/":
            route.fulfill(status=200, body=self.html, headers=headers,
                          content_type="text/html; charset=utf-8")
        elif path == "/boot.js":
            route.fulfill(status=200, body=BOOT_JS, content_type="text/javascript")
        elif path == "/fonts.css":
            route.fulfill(status=200, body=FONT_CSS, content_type="text/css")
        elif path in FONTS:
            package, name = FONTS[path]
            data = resources.files(package).joinpath(name).read_bytes()
            route.fulfill(status=200, body=data, content_type="font/ttf")
        elif path.startswith("/static/") and (STATIC / path[8:]).is_file():
            kind = "text/css" if path.endswith(".css") else "text/javascript"
            route.fulfill(status=200, body=(STATIC / path[8:]).read_bytes(), content_type=kind)
        else:
            route.fulfill(status=404, body="not found")

    def open(self) -> Page:
        self.page.goto(ORIGIN + "/")
        expect(self.page.locator("body[data-ready=yes]")).to_have_count(1)
        fonts = self.page.locator("body").get_attribute("data-fonts")
        assert fonts is not None and "0" not in fonts.split(), f"a test font did not load: {fonts}"
        return self.page


@pytest.fixture()
def page_at(browser: Browser) -> Iterator[Any]:
    contexts = []

    def make(width: int) -> Page:
        context = browser.new_context(viewport={"width": width, "height": 900},
                                      has_touch=width < 500)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


OVERFLOW_JS = """() => {
  const out = [];
  for (const g of document.querySelectorAll('g.mm-node')) {
    if (g.classList.contains('mm-hidden')) continue;
    const rect = g.querySelector(':scope > rect');
    const w = +rect.getAttribute('width'), h = +rect.getAttribute('height');
    for (const t of g.querySelectorAll(':scope > text')) {
      const b = t.getBBox();
      if (b.width === 0 && t.textContent.length > 0) out.push(['empty box', t.textContent]);
      if (b.x < -0.5 || b.y < -0.5 || b.x + b.width > w + 0.5 || b.y + b.height > h + 0.5)
        out.push([t.textContent.slice(0, 40), Math.round(b.x), Math.round(b.width), w,
                  Math.round(b.y), Math.round(b.height), h]);
    }
  }
  return out;
}"""


def _view_box(page: Page) -> list[float]:
    value: str = page.locator("svg.mindmap").get_attribute("viewBox") or ""
    return [float(v) for v in value.split()]


def _visible_nodes(page: Page) -> int:
    count: int = page.evaluate(
        "document.querySelectorAll('g.mm-node:not(.mm-hidden)').length")
    return count


@pytest.mark.parametrize("width", WIDTHS)
def test_every_line_of_text_lies_inside_its_box(page_at: Any, width: int) -> None:
    svg = render_svg([scripts_map()], title="Scripts")
    for script in (False, True):
        site = Site(page_at(width), svg, script=script)
        page = site.open()
        if script:
            expect(page.locator("figure.mapview-on")).to_have_count(1)
        assert page.evaluate(OVERFLOW_JS) == []
        assert site.refused == []
        label = "js" if script else "static"
        page.screenshot(path=str(_shots() / f"mapview-{label}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow}px wider than the window"
        if script:
            page.locator(".mapview-frame").focus()
            for key in ("+", "+", "+", "ArrowRight"):
                page.keyboard.press(key)
            page.locator(".mapview").screenshot(path=str(_shots() / f"mapview-zoomed-{width}.png"))


@pytest.mark.parametrize("width", WIDTHS)
def test_folding_hides_a_branch_and_unfolding_shows_it(page_at: Any, width: int) -> None:
    root = scripts_map()
    svg = render_svg([root], title="Scripts")
    page = Site(page_at(width), svg).open()
    total = _visible_nodes(page)
    assert total == page.locator("g.mm-node").count() > 10
    branch = page.locator('g.mm-node[data-depth="1"].mm-foldable').first
    branch_id = branch.get_attribute("data-id")
    below = page.locator(f'g.mm-node[data-parent="{branch_id}"]')
    hidden_count = page.evaluate(
        """id => { const all = [...document.querySelectorAll('g.mm-node')];
                   const start = all.findIndex(g => g.dataset.id === id);
                   let n = 0;
                   for (let i = start + 1; i < all.length && +all[i].dataset.depth > 1; i++) n++;
                   return n; }""", branch_id)
    assert hidden_count >= 2
    expect(branch).to_have_attribute("aria-expanded", "true")

    branch.click()
    expect(branch).to_have_attribute("aria-expanded", "false")
    expect(branch).to_have_class(re.compile(r"\bmm-collapsed\b"))
    expect(below.first).to_be_hidden()
    expect(page.locator(f'path.mm-edge[data-parent="{branch_id}"]').first).to_be_hidden()
    assert _visible_nodes(page) == total - hidden_count
    expect(branch.locator(".mm-badge")).to_be_visible()
    page.screenshot(path=str(_shots() / f"mapview-folded-{width}.png"))

    branch.focus()
    page.keyboard.press("Enter")
    expect(branch).to_have_attribute("aria-expanded", "true")
    expect(below.first).to_be_visible()
    assert _visible_nodes(page) == total

    # A branch folded inside a folded branch is still folded when the outer one unfolds.
    inner = page.locator('g.mm-foldable[data-depth="2"]').first
    outer_id = inner.get_attribute("data-parent")
    outer = page.locator(f'g.mm-node[data-id="{outer_id}"]')
    inner_kids = page.locator(f'g.mm-node[data-parent="{inner.get_attribute("data-id")}"]')
    inner.click()
    outer.click()
    expect(inner).to_be_hidden()
    outer.click()
    expect(inner).to_be_visible()
    expect(inner).to_have_attribute("aria-expanded", "false")
    expect(inner_kids.first).to_be_hidden()
    inner.click()
    expect(inner_kids.first).to_be_visible()
    assert _visible_nodes(page) == total

    page.get_by_role("button", name="Fold all branches", exact=True).click()
    assert _visible_nodes(page) == 1 + page.locator('g.mm-node[data-depth="1"]').count()
    page.get_by_role("button", name="Unfold all branches", exact=True).click()
    assert _visible_nodes(page) == total


@pytest.mark.parametrize("width", WIDTHS)
def test_keys_wheel_drag_and_pinch_move_and_zoom_the_view(page_at: Any, width: int) -> None:
    page = Site(page_at(width), render_svg([scripts_map()], title="Scripts")).open()
    home = _view_box(page)
    frame = page.locator(".mapview-frame")
    frame.focus()

    page.keyboard.press("+")
    zoomed = _view_box(page)
    assert zoomed[2] == pytest.approx(home[2] / 1.25)
    page.keyboard.press("ArrowRight")
    assert _view_box(page)[0] > zoomed[0]
    page.keyboard.press("ArrowDown")
    assert _view_box(page)[1] > zoomed[1]
    page.keyboard.press("-")
    page.keyboard.press("0")
    assert _view_box(page) == pytest.approx(home)

    page.get_by_role("button", name="Zoom in").click()
    assert _view_box(page)[2] < home[2]
    page.get_by_role("button", name="Fit the whole map").click()
    assert _view_box(page) == pytest.approx(home)

    box = frame.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.wheel(0, -300)
    expect(page.locator("figure.mapview")).not_to_have_attribute("data-zoom", "1.000")
    assert _view_box(page)[2] < home[2]

    before = _view_box(page)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 60, y - 40, steps=4)
    page.mouse.up()
    after = _view_box(page)
    assert after[0] > before[0] and after[1] > before[1]
    assert after[2] == pytest.approx(before[2])

    # A topic reached from the keyboard outside the view is brought into view.
    frame.focus()
    page.keyboard.press("0")
    for _ in range(5):
        page.keyboard.press("+")
    far = page.locator("g.mm-foldable").last
    far.focus()
    x0, y0, w0, h0 = _view_box(page)
    box = page.evaluate(
        """g => { const r = g.getBoundingClientRect(), f = document.querySelector('.mapview-frame')
                   .getBoundingClientRect();
                  return [r.left - f.left, r.top - f.top, r.right - f.right, r.bottom - f.bottom]; }""",
        far.element_handle())
    assert box[0] >= 0 and box[1] >= 0 and box[2] <= 0 and box[3] <= 0, box
    assert w0 < home[2]

    # Two fingers moving apart zoom in (synthetic touch pointers, as a phone sends them).
    frame.focus()
    page.keyboard.press("0")
    page.evaluate(
        """([x, y]) => {
             const f = document.querySelector('.mapview-frame');
             const send = (type, id, dx) => f.dispatchEvent(new PointerEvent(type, {
               pointerId: id, pointerType: 'touch', isPrimary: id === 1, bubbles: true,
               clientX: x + dx, clientY: y }));
             send('pointerdown', 1, -20); send('pointerdown', 2, 20);
             for (let s = 1; s <= 5; s++) { send('pointermove', 1, -20 - 12 * s);
                                            send('pointermove', 2, 20 + 12 * s); }
             send('pointerup', 1, -80); send('pointerup', 2, 80);
           }""", [x, y])
    assert _view_box(page)[2] < home[2] / 2


@pytest.mark.parametrize("width", WIDTHS)
def test_the_viewer_passes_axe(page_at: Any, width: int) -> None:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing ({AXE}): run `bash scripts/test.sh`", pytrace=False)
    site = Site(page_at(width), render_svg([scripts_map()], title="Scripts"))
    page = site.open()
    expect(page.locator("figure.mapview-on")).to_have_count(1)
    page.locator('g.mm-node[data-depth="1"].mm-foldable').first.click()
    # axe is injected as an inline script, which the page's CSP forbids: serve it as a file.
    page.route(f"{ORIGIN}/axe.js", lambda r: r.fulfill(body=AXE.read_bytes(),
                                                       content_type="text/javascript"))
    page.add_script_tag(url=f"{ORIGIN}/axe.js")
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))"
        ".slice(0, 5)}))")
    serious = [v for v in found if v["impact"] in {"serious", "critical"}]
    assert serious == [], serious


def test_a_static_picture_has_no_script_and_names_itself(page_at: Any) -> None:
    page = Site(page_at(1280), render_svg([Topic("Solo")], title="Only <a> root"),
                script=False).open()
    svg = page.locator("svg.mindmap")
    expect(svg).to_have_attribute("role", "img")
    assert page.evaluate("document.querySelector('svg.mindmap > title').textContent") == (
        "Mind map: Only <a> root")
    assert page.locator("svg script, svg foreignObject, svg a").count() == 0
