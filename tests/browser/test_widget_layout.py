"""The widget's layout and keyboard in a real JupyterLab: dense by default, the lightbox over the page, states that
tell the truth, and keys that act as they do in a notebook cell."""

from __future__ import annotations

from playwright.sync_api import Locator

from tests.browser.pages import (
    KEYS_NOTEBOOK,
    assert_real_picture,
    check_notebook_keys,
    image_facts,
    record_progress,
    run_all,
    run_to_the_hang,
    screenshot,
    status_of,
    wait_js,
    wait_run_all,
    wait_status,
    widgets,
)

IMPORT = "from conduit_widget import GenerationWidget"
ENDED = {"completed", "failed", "cancelled", "timedout"}


def box_of(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None, f"{locator} takes no room on screen"
    return box


def test_a_widget_with_one_256px_image_is_under_360px_with_the_editor_one_click_away(lab):
    page = lab.page
    lab.open("dense.ipynb", [f'{IMPORT}\nw = GenerationWidget("a red fox in snow", size="256x256")\nw'])
    record_progress(page)
    run_all(page)
    wait_run_all(page)
    widget = widgets(page).first
    wait_js(page, "() => window.__cwProgress.some((v) => (v >= 30 && v < 90) || v === 100)", "progress past 30%")
    screenshot(widget, "dense-progress--widget")
    assert wait_status(page, 0, ENDED) == "completed"
    assert_real_picture(image_facts(widget.locator("img.cw-image")), 256, 256)

    height = box_of(widget)["height"]
    assert height < 360, f"the widget is {height:.0f} px tall for one 256 px image"
    # Made with a prompt: the prompt shows as a caption, the editor waits behind "Edit".
    assert widget.locator(".cw-caption").inner_text() == "a red fox in snow"
    assert widget.locator("textarea.cw-prompt").is_hidden()
    assert widget.locator(".cw-generate").is_hidden()
    # The bar says how it ended.
    assert widget.locator(".cw-progress.cw-bar-completed").count() == 1
    fill = widget.locator(".cw-progress-fill").evaluate("(f) => getComputedStyle(f).backgroundColor")
    accent = widget.locator(".cw-generate").evaluate("(b) => getComputedStyle(b).backgroundColor")
    assert fill != accent, f"a completed bar is still the running colour {fill}"
    screenshot(widget, "dense-image--widget")

    widget.locator(".cw-edit").click()
    prompt = widget.locator("textarea.cw-prompt")
    assert prompt.is_visible()
    assert prompt.evaluate("(p) => document.activeElement === p")
    assert widget.locator(".cw-edit").get_attribute("aria-expanded") == "true"
    # The focus ring shows on Generate, whose face is the accent colour the old ring was drawn in. It comes
    # before the prompt box in the page, in the top row.
    page.keyboard.press("Shift+Tab")
    ring = widget.locator(".cw-generate").evaluate(
        "(b) => { const s = getComputedStyle(b); return [document.activeElement === b, s.outlineStyle, s.outlineWidth]; }"
    )
    assert ring[0] is True and ring[1] == "solid" and float(ring[2].removesuffix("px")) >= 2, ring
    screenshot(widget, "dense-editor--widget")


def test_the_lightbox_opens_over_the_page_and_arrows_move_through_a_result(lab):
    page = lab.page
    lab.open("lightbox.ipynb", [f'{IMPORT}\nw = GenerationWidget("three lighthouses", n=3, size="256x192")\nw'])
    run_all(page)
    wait_run_all(page)
    assert wait_status(page, 0, ENDED) == "completed"
    widget = widgets(page).first
    tiles = widget.locator("img.cw-image")
    assert tiles.count() == 3
    srcs = [tiles.nth(i).get_attribute("src") for i in range(3)]
    assert len(set(srcs)) == 3

    tiles.nth(1).click()
    lightbox = page.locator("body > .cw-lightbox")
    lightbox.wait_for(state="visible")
    shown = lightbox.locator("img.cw-lightbox-img")
    assert shown.get_attribute("src") == srcs[1]
    light, small = box_of(lightbox), box_of(widget)
    assert light["width"] > small["width"] and light["height"] > small["height"], (light, small)
    # At full size: the 256x192 picture is drawn at its own size, not shrunk into a grid cell.
    facts = image_facts(shown)
    assert (facts["width"], facts["height"]) == (256, 192) and facts["shownWidth"] >= 255, facts
    screenshot(page, "lightbox")

    page.keyboard.press("ArrowRight")
    assert shown.get_attribute("src") == srcs[2]
    page.keyboard.press("ArrowRight")
    assert shown.get_attribute("src") == srcs[0]
    page.keyboard.press("ArrowLeft")
    assert shown.get_attribute("src") == srcs[2]
    assert "3 / 3" in lightbox.inner_text()

    page.keyboard.press("Escape")
    lightbox.wait_for(state="detached")
    assert tiles.nth(1).evaluate("(t) => document.activeElement === t"), "focus did not return to the image"


def test_esc_in_the_prompt_box_returns_to_the_notebook_and_shift_enter_runs_the_cell(lab):
    lab.open("keys.ipynb", KEYS_NOTEBOOK)
    check_notebook_keys(lab.page)


def test_a_hung_task_says_no_progress_instead_of_an_eta(lab):
    page = lab.page
    lab.open(
        "hung.ipynb", [f'{IMPORT}\nw = GenerationWidget("a lighthouse in fog", model="test-hang", size="256x256")\nw']
    )
    run_to_the_hang(page)
    widget = widgets(page).first
    eta = widget.locator(".cw-eta")
    wait_js(
        page,
        "(eta) => eta.textContent.startsWith('no progress for')",
        "the stale ETA to give way",
        30,
        arg=eta.element_handle(),
    )
    assert status_of(widget) == "processing"
    assert "ETA" not in widget.locator(".cw-progress-section").inner_text()
    assert eta.is_visible()
    # The clock keeps counting past the time without progress.
    assert widget.locator(".cw-elapsed").inner_text() >= "0:10"
    screenshot(widget, "hung-task--widget")

    widget.locator(".cw-cancel").click()
    assert wait_status(page, 0, ENDED) == "cancelled"
    assert widget.locator(".cw-progress.cw-bar-cancelled").count() == 1
    assert "no progress" not in widget.locator(".cw-progress-section").inner_text()
