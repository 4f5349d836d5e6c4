"""The widget in a real JupyterLab, in a real Chromium: what a person running the notebook would see."""

from __future__ import annotations

import json

from tests.browser.pages import (
    assert_real_picture,
    command,
    contrast,
    image_facts,
    kernel_id,
    kernel_print,
    luminance,
    open_notebook,
    over,
    parse_colour,
    record_progress,
    record_statuses,
    run_all,
    run_to_the_hang,
    screenshot,
    status_of,
    wait_js,
    wait_run_all,
    wait_status,
    widgets,
)

IMPORT = "from conduit_widget import Gallery, GenerationWidget"
STATIC_COPY = "[data-conduit-static]"


def test_an_image_fills_in_with_live_progress(lab):
    page = lab.page
    lab.open(
        "image.ipynb",
        [f'{IMPORT}\nw = GenerationWidget("a red fox in snow", size="320x240")\nw', "result = await w.wait()"],
    )
    # The notebook runs on the venv's python3 kernel, the one with this checkout installed.
    assert ".venv/bin/python" in kernel_print(page, "import sys; print(sys.executable)")
    record_progress(page)
    run_all(page)

    # Mid-way for the screenshot (or already done, on a machine slow enough to miss that moment).
    wait_js(page, "() => window.__cwProgress.some((v) => (v >= 30 && v < 90) || v === 100)", "progress past 30%")
    widget = widgets(page).first
    screenshot(page, "image-progress")
    screenshot(widget, "image-progress--widget")

    assert wait_status(page, 0, {"completed", "failed", "cancelled", "timedout"}) == "completed"
    wait_run_all(page)
    values = page.evaluate("() => window.__cwProgress")
    assert len({v for v in values if 0 < v < 100}) >= 3, f"the bar did not move in steps: {values}"
    assert values == sorted(values), f"the progress went back: {values}"
    assert values[-1] == 100
    assert_real_picture(image_facts(widget.locator("img.cw-image")), 320, 240)
    assert widget.locator(".cw-cancel").is_disabled()
    # The static copy for viewers without widgets is in the page, but hidden while the live widget shows.
    copy = page.locator(STATIC_COPY)
    copy.wait_for(state="attached")
    assert copy.count() == 1
    assert copy.is_hidden()
    screenshot(page, "image-done")
    screenshot(widget, "image-done--widget")


def test_a_video_plays_in_the_widget(lab):
    page = lab.page
    lab.open(
        "video.ipynb",
        [
            f'{IMPORT}\nw = GenerationWidget("ocean waves", kind="video", duration=2, size="320x240")\nw',
            "clip = await w.wait()",
        ],
    )
    run_all(page)
    assert wait_status(page, 0, {"completed", "failed", "cancelled", "timedout"}) == "completed"
    wait_run_all(page)
    widget = widgets(page).first
    video = widget.locator("video.cw-video")
    video.wait_for(state="visible")
    video.evaluate("(v) => { v.muted = true; return v.play(); }")
    start = wait_js(
        page,
        "(v) => v.readyState >= 2 && !v.paused && [v.currentTime]",
        "the video to play",
        arg=video.element_handle(),
    )[0]
    # Playing, not just loaded: the clock moves by half a second within a few seconds.
    wait_js(
        page,
        "([v, start]) => v.currentTime >= start + 0.5",
        "the video's clock to advance",
        10,
        arg=[video.element_handle(), start],
    )
    facts = video.evaluate("(v) => ({duration: v.duration, width: v.videoWidth, height: v.videoHeight})")
    assert abs(facts["duration"] - 2) <= 0.2, facts
    assert (facts["width"], facts["height"]) == (320, 240), facts
    # The player's controls show, as for a person watching. Forced: in Debian's Chromium 150 a hit test at the
    # playing video's centre inside JupyterLab's windowed notebook lands on its parent (not seen in a plain page).
    video.hover(force=True)
    screenshot(widget, "video-playing--widget")


def test_cancel_stops_a_task_that_never_finishes(lab):
    page = lab.page
    lab.open(
        "cancel.ipynb", [f'{IMPORT}\nw = GenerationWidget("a lighthouse in fog", model="test-hang", size="256x256")\nw']
    )
    run_to_the_hang(page)
    widget = widgets(page).first
    assert status_of(widget) == "processing"
    screenshot(widget, "cancel-before--widget")

    widget.locator(".cw-cancel").click()
    assert wait_status(page, 0, {"cancelled", "completed", "failed", "timedout"}) == "cancelled"
    assert widget.locator(".cw-cancel").is_disabled()
    # Made with a prompt, the widget keeps its editor behind Edit; a new run is one click there.
    assert widget.locator(".cw-generate").is_hidden()
    widget.locator(".cw-edit").click()
    assert widget.locator(".cw-generate").is_visible() and widget.locator(".cw-generate").is_enabled()
    assert kernel_print(page, "print(w.result.status)").strip() == "cancelled"
    screenshot(widget, "cancel-after--widget")


def test_a_failure_shows_the_servers_message_and_retry_starts_again(lab):
    page = lab.page
    lab.open(
        "failure.ipynb",
        [
            f'{IMPORT}\nw = GenerationWidget("a storm at sea", model="test-fail", size="256x256")\nw',
            "r = await w.wait()",
        ],
    )
    run_all(page)
    wait_run_all(page)
    assert wait_status(page, 0, {"failed", "completed", "cancelled", "timedout"}) == "failed"
    widget = widgets(page).first
    error = widget.locator(".cw-error")
    assert error.is_visible()
    assert "test-fail" in error.locator(".cw-error-lines").inner_text()
    retry = error.locator(".cw-retry")
    assert retry.is_visible() and retry.is_enabled()
    # Both show in the dense layout: nobody has to open the editor to read the error or to retry.
    assert widget.locator("textarea.cw-prompt").is_hidden()
    screenshot(widget, "error-retry--widget")
    first_task = kernel_print(page, "print(w.task.id)").strip()

    record_statuses(page)
    retry.click()
    wait_js(
        page,
        """() => {
          const s = window.__cwStatuses;
          const running = s.findIndex((x) => x === "pending" || x === "processing");
          return running >= 0 && s.indexOf("failed", running) > running;
        }""",
        "a new attempt that runs, then fails again",
    )
    assert status_of(widget) == "failed"
    second_task = kernel_print(page, "print(w.task.id)").strip()
    assert first_task and second_task and second_task != first_task
    assert "test-fail" in widget.locator(".cw-error-lines").inner_text()


NINE = [
    "a lighthouse at night",
    "a forest after rain",
    "a cat made of clouds",
    "a red fox in snow",
    "ocean waves",
    "a desert at dawn",
    "a city at night",
    "a paper boat",
    "a mountain lake",
]


def _tile_boxes(gallery):
    return gallery.locator(".cg-tile").evaluate_all(
        "(tiles) => tiles.map((t) => { const r = t.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width}; })"
    )


def test_a_gallery_fills_three_tiles_in_a_row(lab):
    page = lab.page
    lab.open(
        "gallery.ipynb",
        [
            f"{IMPORT}\ng = Gallery(columns=3)\ng",
            f"results = await g.generate_many({NINE!r}, size='192x192', concurrency=9)",
        ],
    )
    run_all(page)
    gallery = page.locator(".conduit-gallery")
    wait_js(page, "() => document.querySelector('.cg-count')?.textContent === '9 of 9'", "9 of 9 in the header")
    wait_run_all(page)
    tiles = gallery.locator(".cg-tile")
    assert tiles.count() == 9
    assert tiles.evaluate_all("(ts) => ts.map((t) => t.dataset.status)") == ["completed"] * 9
    assert gallery.locator(".cg-state:visible").count() == 0, "a finished picture is covered by its status"
    for index in range(9):
        assert_real_picture(image_facts(tiles.nth(index).locator("img.cg-picture")), 192, 192)
    # One header for the set, not one per tile.
    assert gallery.locator(".cg-conn").inner_text() == "connected"
    assert gallery.locator(".cg-backend").inner_text() == "local simulator"
    assert gallery.locator(".cg-cancel-all").is_disabled()
    boxes = _tile_boxes(gallery)
    assert len({round(b["y"]) for b in boxes[:3]}) == 1 and boxes[3]["y"] > boxes[0]["y"], f"not 3 a row: {boxes}"
    # The static copy is written, and hidden while the live gallery shows.
    copy = page.locator(STATIC_COPY).first
    copy.wait_for(state="attached")
    assert copy.is_hidden()
    assert copy.locator("img").count() == 9
    screenshot(gallery, "gallery--widget")

    # Prompt and details show on keyboard focus, as on hover.
    details = tiles.nth(4).locator(".cg-details")
    assert details.evaluate("(el) => getComputedStyle(el).opacity") == "0"
    tiles.nth(4).focus()
    wait_js(page, "(el) => getComputedStyle(el).opacity === '1'", "the details on focus", arg=details.element_handle())
    assert details.locator(".cg-prompt").inner_text() == "ocean waves"

    # In a 400 px column the three columns give way to two, each wide enough to read.
    gallery.evaluate("(el) => { el.parentElement.style.width = '400px'; }")
    wait_js(page, "(el) => el.getBoundingClientRect().width <= 400", "the 400 px column", arg=gallery.element_handle())
    boxes = _tile_boxes(gallery)
    assert len({round(b["x"]) for b in boxes}) == 2, f"not two columns: {boxes}"
    assert min(b["w"] for b in boxes) >= 140
    page.set_viewport_size({"width": 1280, "height": 2200})  # the notebook's scroller would crop the taller grid
    screenshot(gallery, "gallery-400px--widget")


def test_the_static_copy_shows_after_a_kernel_restart(lab, console):
    page = lab.page
    path = lab.open(
        "static.ipynb",
        [f'{IMPORT}\nw = GenerationWidget("a red fox in snow", size="320x240")\nw', "result = await w.wait()"],
    )
    run_all(page)
    wait_run_all(page)
    page.locator(STATIC_COPY).wait_for(state="attached")
    assert page.locator(STATIC_COPY).is_hidden()
    command(page, "docmanager:save")
    saved = json.loads((lab.root / path).read_text())
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in saved["cells"][0]["outputs"])
    assert "data-conduit-static" in html and "data:image/jpeg;base64," in html

    lab.server.api("POST", f"kernels/{kernel_id(page)}/restart")
    # After the restart the kernel has no model for the saved widget view: JupyterLab's widget manager
    # (@jupyter-widgets/jupyterlab-manager) says so in the output and logs the error, as for any widget.
    console.allow(
        r"(?s)^console\.error: Error: widget model not found\b.*@jupyter-widgets/jupyterlab-manager",
        "ipywidgets' own report of a view whose model died with the kernel",
    )
    open_notebook(page, lab.server.page_url(path), path)
    # The widget manager has given up on the live view: from now on this is what the reader sees.
    page.get_by_text("Error displaying widget: model not found").wait_for()
    copy = page.locator(STATIC_COPY)
    copy.wait_for(state="visible")
    image = copy.locator("img").first
    assert image.get_attribute("src").startswith("data:image/jpeg")
    image_facts(image)  # waits for it to load
    assert image.evaluate("(img) => img.naturalWidth") > 0
    assert image.is_visible()
    screenshot(page, "static-copy-after-restart")


def test_the_dark_theme_keeps_the_widget_readable(lab):
    page = lab.page
    lab.open(
        "dark.ipynb",
        [f'{IMPORT}\nw = GenerationWidget("a city at night", size="320x240")\nw', "result = await w.wait()"],
    )
    run_all(page)
    wait_run_all(page)
    command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    wait_js(
        page,
        "() => document.body.dataset.jpThemeLight === 'false' && document.body.dataset.jpThemeName === 'JupyterLab Dark'",
        "the dark theme",
    )
    widget = widgets(page).first
    wait_js(
        page,
        "(el) => { const m = getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number); return m[0] + m[1] + m[2] < 200; }",
        "the widget to turn dark",
        arg=widget.element_handle(),
    )
    colours = widget.evaluate(
        """(root) => {
          const chain = (el) => {
            const out = [];
            for (let n = el; n; n = n.parentElement) out.push(getComputedStyle(n).backgroundColor);
            return out;
          };
          const pick = (selector) => {
            const el = selector === ":root" ? root : root.querySelector(selector);
            return el && { selector, color: getComputedStyle(el).color, backgrounds: chain(el) };
          };
          return [":root", ".cw-status", ".cw-percent", ".cw-message", ".cw-label", ".cw-prompt", ".cw-download", ".cw-backend"].map(pick);
        }"""
    )
    widget_bg = parse_colour(widget.evaluate("(el) => getComputedStyle(el).backgroundColor"))
    assert luminance(widget_bg[:3]) < 0.1, f"the widget kept a light background: {widget_bg}"
    for item in colours:
        assert item is not None, colours
        backdrop = (0.0, 0.0, 0.0)
        for layer in reversed(item["backgrounds"]):
            backdrop = over(parse_colour(layer), backdrop)
        ratio = contrast(over(parse_colour(item["color"]), backdrop), backdrop)
        assert ratio >= 3, f"{item['selector']}: {item['color']} on {backdrop} has contrast {ratio:.2f}"
    screenshot(widget, "dark-theme--widget")


def _tile_statuses(page) -> list[str]:
    return page.locator(".cg-tile").evaluate_all("(ts) => ts.map((t) => t.dataset.status)")


def test_a_gallerys_cancel_all_stops_every_tile_and_retry_runs_a_failed_one_again(lab):
    page = lab.page
    lab.open(
        "gallery-retry.ipynb",
        [
            f"{IMPORT}\ng = Gallery(columns=4)\ng",
            "failed = await g.generate_many(['a storm at sea'], model='test-fail', size='128x128')",
            # Two slots for three tasks that never finish: two run, one waits its turn.
            "import asyncio\nhung = asyncio.ensure_future(g.generate_many("
            "['a lighthouse in fog', 'a paper boat', 'a gull'], model='test-hang', size='128x128', concurrency=2))",
        ],
    )
    run_all(page)
    wait_run_all(page)
    wait_js(
        page,
        "() => [...document.querySelectorAll('.cg-tile')].map((t) => t.dataset.status).join() === "
        "'failed,processing,processing,queued'",
        "a failed tile, two running and one queued",
    )
    gallery = page.locator(".conduit-gallery")
    tiles = gallery.locator(".cg-tile")
    assert "test-fail" in tiles.nth(0).locator(".cg-state").inner_text()
    assert tiles.nth(3).locator(".cg-state").inner_text() == "queued"
    cancel_all = gallery.locator(".cg-cancel-all")
    assert cancel_all.is_enabled()

    cancel_all.click()
    wait_js(
        page,
        "() => [...document.querySelectorAll('.cg-tile')].map((t) => t.dataset.status).join() === "
        "'failed,cancelled,cancelled,cancelled'",
        "every running and queued tile cancelled, the failed one left as it was",
    )
    assert cancel_all.is_disabled()
    # The queued tile never started; the running ones were cancelled on the server, and the call returned.
    wait_js(page, "() => document.querySelector('.cg-count')?.textContent === '4 of 4'", "4 of 4 in the header")
    assert kernel_print(page, "print(hung.done(), [w.task is None for w in g.widgets])").strip() == (
        "True [False, False, False, True]"
    )
    assert kernel_print(page, "print([w.result.status for w in g.widgets[1:3]])").strip() == (
        "['cancelled', 'cancelled']"
    )

    first_task = kernel_print(page, "print(g.widgets[0].task.id)").strip()
    tiles.nth(0).focus()  # Retry is among the details that show on focus, as on hover
    retry = tiles.nth(0).locator(".cg-retry")
    wait_js(
        page, "(b) => getComputedStyle(b.parentElement).opacity === '1'", "Retry to show", arg=retry.element_handle()
    )
    page.evaluate(
        """() => {
          const tile = document.querySelector('.cg-tile');
          window.__cgSeen = [];
          new MutationObserver(() => window.__cgSeen.push(tile.dataset.status))
            .observe(tile, { attributes: true, attributeFilter: ['data-status'] });
        }"""
    )
    retry.click()
    wait_js(
        page,
        "() => window.__cgSeen.includes('processing') && window.__cgSeen.at(-1) === 'failed'",
        "the failed tile to run again and fail again",
    )
    assert _tile_statuses(page) == ["failed", "cancelled", "cancelled", "cancelled"]
    second_task = kernel_print(page, "print(g.widgets[0].task.id)").strip()
    assert first_task and second_task and second_task != first_task
    screenshot(gallery, "gallery-retry-cancel-all--widget")
