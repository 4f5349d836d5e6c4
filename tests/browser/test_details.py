"""The parameter line in a real JupyterLab and Chromium: what ran (model, resolution, seed, task id) under the
result, and "Copy as code" putting the Python call on the clipboard."""

from __future__ import annotations

import ast

from tests.browser.pages import run_all, screenshot, wait_run_all, wait_status, widgets

IMPORT = "from conduit_widget import GenerationWidget"


def test_the_parameter_line_shows_what_ran_and_copies_it_as_code(lab):
    page = lab.page
    prompt = 'a "quoted" fox\nin snow'
    lab.open(
        "details.ipynb",
        [
            f"{IMPORT}\nimage = GenerationWidget({prompt!r}, size='320x240', seed=7)\nimage",
            "video = GenerationWidget('waves', kind='video', size='256x144', duration=1, seed=42)\nvideo",
            "await image.wait(); await video.wait(); print(image.task_id, video.task_id)",
        ],
    )
    run_all(page)
    for index in (0, 1):
        assert wait_status(page, index, {"completed", "failed", "cancelled", "timedout"}) == "completed"
    wait_run_all(page)
    image, video = widgets(page).nth(0), widgets(page).nth(1)
    image_line = image.locator(".cw-details-line").inner_text()
    video_line = video.locator(".cw-details-line").inner_text()
    # The default local Conduit is conduit-2025.08, whose async image route drops a seed: the line says so.
    assert "Model dall-e-3" in image_line and "320x240" in image_line
    assert "seed not supported for images by this server" in image_line and "Seed 7" not in image_line
    assert "Model minimax-video" in video_line and "256x144" in video_line and "Seed 42" in video_line
    for line in (image_line, video_line):
        assert "Task task_" in line and "total" in line
    screenshot(image, "details--widget")

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    image.locator(".cw-copy-code").click()
    image.locator(".cw-details-said", has_text="Code copied").wait_for()
    code = page.evaluate("() => navigator.clipboard.readText()")
    call = ast.parse(code, mode="eval").body
    assert isinstance(call, ast.Call) and ast.unparse(call.func) == "GenerationWidget"
    assert [ast.literal_eval(a) for a in call.args] == [prompt]
    assert {k.arg: ast.literal_eval(k.value) for k in call.keywords} == {"model": "dall-e-3", "size": "320x240"}

    video.locator(".cw-copy-prompt").click()
    video.locator(".cw-details-said", has_text="Prompt copied").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == "waves"
