"""Bad input to the widgets, from the user's code and from the browser, and to the media URL policy.

From the user: a wrong type (or a misspelt argument) is one `ConfigurationError` naming the argument; a
wrong value the front end could also have produced (n=0, size="big") is shown in the widget, naming it,
with nothing sent. From the browser: whatever state or message arrives, nothing raises out of the comm
handler, only the inputs the browser edits can change, a refused value is sent back as the kernel has it,
and every trait keeps a value of its type. URLs: nothing but https, http on this machine, and base64 image
data URLs ever reaches the browser, however the URL is dressed up.

No event loop runs in these tests (no client is started, nothing is sent); those with one say so.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import re
import socket
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conduit_widget import ConduitClient, ConfigurationError, Gallery, GenerationWidget
from conduit_widget.url_policy import UnsafeUrl, check_media_url, should_embed
from tests.widget.conftest import CommSpy

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NOWHERE = ConduitClient("http://127.0.0.1:9", "condt_" + "w" * 20)  # never started here

# (Not bytes: traitlets reads ASCII bytes as text, and GenerationWidget(model=b"dall-e-3") means what it says.)
not_text = st.one_of(st.integers(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=2))
not_int = st.one_of(st.floats(), st.booleans(), st.text(max_size=4), st.lists(st.integers(), max_size=2), st.none())
not_number = st.one_of(
    st.booleans(), st.text(max_size=4), st.lists(st.integers(), max_size=2), st.just(math.nan), st.just(math.inf)
)

# One wrong argument at a time: what it may be, and the word the error must contain.
BAD_ARGUMENTS: dict[str, st.SearchStrategy[Any]] = {
    "prompt": not_text | st.none() | st.sampled_from(["", "   ", "\n"]),
    "kind": not_text
    | st.text(max_size=8).filter(lambda k: k not in ("image", "video"))
    | st.sampled_from(["Image", "VIDEO "]),
    "model": not_text,
    "size": not_text | st.sampled_from(["big", "1024", "x", "1024x", "0x", "1024 x 1024", "-1x-1", "99999999x1"]),
    "n": not_int | st.integers(max_value=0) | st.integers(min_value=11),
    "duration": not_number
    | st.floats(max_value=-1e-6)
    | st.floats(min_value=60.5)
    | st.integers(61, 10**6)
    | st.floats(0.01, 59.99).filter(lambda v: v != int(v)),
    "compact": st.one_of(st.text(max_size=3), st.integers(2, 5), st.lists(st.booleans(), max_size=1)),
    "editable": st.one_of(st.text(max_size=3), st.integers(2, 5), st.lists(st.booleans(), max_size=1)),
    "embed_media": st.one_of(st.text(max_size=5).filter(lambda e: e != "auto"), st.integers(2, 5), st.none()),
    "client": st.one_of(st.text(max_size=5), st.integers(), st.just(object()), st.just(ConduitClient)),
}
GOOD_ARGUMENTS: dict[str, st.SearchStrategy[Any]] = {
    "kind": st.sampled_from(["image", "video"]),
    "model": st.none() | st.sampled_from(["", "dall-e-3", "minimax-video"]),
    "size": st.none() | st.builds(lambda w, h: f"{w}x{h}", st.integers(1, 4096), st.integers(1, 4096)),
    "n": st.integers(1, 10),
    "duration": st.none() | st.integers(0, 60) | st.sampled_from([0.0, 4.0, 60.0]),
    "compact": st.booleans(),
    "editable": st.none() | st.booleans(),
    "embed_media": st.sampled_from([True, False, "auto"]),
    "client": st.just(None) | st.just(NOWHERE),
}


def names(error_text: str, argument: str) -> bool:
    return re.search(rf"\b{re.escape(argument)}\b", error_text, re.IGNORECASE) is not None


@FAST
@given(argument=st.sampled_from(sorted(BAD_ARGUMENTS)), data=st.data())
def test_a_wrong_argument_is_one_clear_error_naming_it(argument: str, data: st.DataObject) -> None:
    value = data.draw(BAD_ARGUMENTS[argument], label=argument)
    call = {"prompt": "a red fox", argument: value}
    try:
        widget = GenerationWidget(**call)  # auto_start: a wrong value is caught before anything is sent
    except ConfigurationError as exc:
        error = str(exc)
    else:
        # Not refused up front: then the widget says what is wrong, and sends nothing.
        assert widget.status == "invalid", f"{argument}={value!r} was taken: {widget!r}"
        assert widget.task is None
        error = widget.error
        widget.close()
    assert names(error, argument), error


@FAST
@given(name=st.text(st.characters(categories=["Ll", "Lu"]), min_size=1, max_size=12), value=st.integers())
def test_a_misspelt_argument_is_named_not_dropped(name: str, value: int) -> None:
    if GenerationWidget.class_traits().get(name) is not None or name in (
        "prompt",
        "auto_start",
        "client",
        "embed_media",
    ):
        return
    with pytest.raises(ConfigurationError, match=re.escape(name)):
        GenerationWidget("a red fox", **{name: value})


@FAST
@given(arguments=st.fixed_dictionaries({}, optional=GOOD_ARGUMENTS), prompt=st.text(min_size=1).filter(str.strip))
def test_right_arguments_are_taken(arguments: dict[str, Any], prompt: str) -> None:
    widget = GenerationWidget(prompt, auto_start=False, **arguments)
    assert widget.status == "idle"
    assert widget._check_input() is None
    widget.close()


# -- what the browser sends -----------------------------------------------------------------------

FRONT_END_INPUTS = {"prompt", "kind", "model", "size", "n", "duration"}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
trait_names = st.sampled_from(sorted(GenerationWidget.class_trait_names(sync=True)))
browser_states = st.dictionaries(
    trait_names | st.text(max_size=10),
    json_values
    | st.sampled_from(["", "video", "image", "64x64", "javascript:alert(1)", "completed", 3, 2.5, -1, True])
    | st.floats(),
    max_size=6,
)


def fresh() -> GenerationWidget:
    return GenerationWidget("a red fox", size="64x64", auto_start=False)


def _snapshot(widget: GenerationWidget) -> dict[str, Any]:
    return {name: getattr(widget, name) for name in widget.class_trait_names(sync=True)}


def _same(a: Any, b: Any) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


@FAST
@given(state=browser_states)
def test_no_state_from_the_browser_raises_or_touches_what_is_the_kernels(state: dict[str, Any]) -> None:
    widget = fresh()
    before = _snapshot(widget)
    spy = CommSpy(widget)
    message = {"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []}
    widget._handle_msg(message)  # as the comm delivers it: must not raise
    after = _snapshot(widget)
    for name, value in after.items():
        if name not in FRONT_END_INPUTS:
            assert _same(value, before[name]), f"the browser changed {name} to {value!r}"
    for name in FRONT_END_INPUTS & set(state):
        if not _same(after[name], state[name]):
            # Refused: the kernel's value stands, and goes back to the browser so that both agree again.
            assert _same(after[name], before[name])
            assert any(_same(v, after[name]) for v in spy.values(name)), f"{name} was not sent back"
    # Every input still holds a value of its type, and the widget still describes itself.
    assert isinstance(widget.prompt, str) and isinstance(widget.kind, str) and isinstance(widget.size, str)
    assert isinstance(widget.n, int) and not isinstance(widget.n, bool)
    assert isinstance(widget.duration, float)
    repr(widget)
    widget.close()


@FAST
@given(
    state=st.dictionaries(
        st.sampled_from(sorted(FRONT_END_INPUTS)), browser_states.map(dict.values).map(list) | json_values, min_size=1
    )
)
def test_then_generate_either_starts_or_says_what_is_wrong(state: dict[str, Any]) -> None:
    widget = fresh()
    widget.set_state(state)
    assert widget.generate() is None  # no event loop here: nothing starts, whatever the input
    assert widget.status == "invalid" and widget.error
    assert widget.task is None
    widget.close()


@FAST
@given(
    content=json_values
    | st.fixed_dictionaries({"type": json_values | st.sampled_from(["generate", "cancel", "retry", "Generate", ""])}),
    buffers=st.lists(st.binary(max_size=4), max_size=2),
)
def test_no_message_from_the_browser_raises(content: Any, buffers: list[bytes]) -> None:
    widget = fresh()
    message = {"content": {"data": {"method": "custom", "content": content}}, "buffers": buffers}
    widget._handle_msg(message)
    assert widget.status in ("idle", "invalid")
    assert widget.task is None
    widget.close()


def test_a_browser_message_during_a_run_is_handled_on_the_loop() -> None:
    """With a loop (and a client that refuses to start): "generate" twice and "cancel" do not raise."""

    async def refuse() -> ConduitClient:
        raise ConfigurationError("not in this test")

    async def run() -> None:
        widget = GenerationWidget("a red fox", size="64x64", client=NOWHERE, auto_start=False)
        widget._get_client = refuse  # type: ignore[method-assign]
        for content in ({"type": "generate"}, {"type": "generate"}, {"type": "cancel"}, {"type": "retry"}, None, [1]):
            widget._handle_custom_msg(content, [])
        widget.close()

    asyncio.run(run())


# -- Gallery --------------------------------------------------------------------------------------


@FAST
@given(
    arguments=st.one_of(
        st.fixed_dictionaries({"columns": st.one_of(st.integers(max_value=0), st.integers(min_value=13), not_int)}),
        st.fixed_dictionaries({"client": st.one_of(st.text(max_size=4), st.integers(), st.just(object()))}),
        st.fixed_dictionaries({"colums": st.integers(1, 4)}),
    )
)
def test_a_wrong_gallery_argument_is_named(arguments: dict[str, Any]) -> None:
    (name,) = arguments
    with pytest.raises(ConfigurationError) as info:
        Gallery(**arguments)
    assert names(str(info.value), name), str(info.value)


@FAST
@given(columns=st.integers(1, 12))
def test_right_gallery_columns_are_taken(columns: int) -> None:
    Gallery(client=NOWHERE, columns=columns).close()


@FAST
@given(
    call=st.one_of(
        st.fixed_dictionaries({"prompts": st.one_of(st.text(max_size=5), st.integers(), st.none())}),
        st.fixed_dictionaries({"prompts": st.lists(not_text | st.none(), min_size=1, max_size=3)}),
        st.fixed_dictionaries({"prompts": st.just(["a fox"]), "concurrency": not_int | st.integers(max_value=0)}),
        st.fixed_dictionaries({"prompts": st.just(["a fox"]), "n": st.text(max_size=3)}),
        st.fixed_dictionaries({"prompts": st.just(["a fox"]), "sise": st.just("64x64")}),
    )
)
def test_a_wrong_generate_many_argument_is_named_and_no_tile_is_made(call: dict[str, Any]) -> None:
    gallery = Gallery(client=NOWHERE)
    name = "prompts" if set(call) == {"prompts"} else next(k for k in call if k != "prompts")

    async def run() -> Any:
        return await gallery.generate_many(**call)

    with pytest.raises(ConfigurationError) as info:
        asyncio.run(run())
    assert names(str(info.value), name), str(info.value)
    assert gallery.widgets == []
    gallery.close()


# -- the media URL policy -------------------------------------------------------------------------

_SPACE_OR_CONTROL = "".join(map(chr, range(0x21)))


def browser_view(url: str) -> tuple[str, str]:
    """The scheme and host a browser sees (WHATWG URL parsing, simplified): leading and trailing C0 controls
    and spaces stripped, tabs and newlines removed everywhere, backslashes as slashes, userinfo dropped."""
    text = re.sub("[\t\n\r]", "", url.strip(_SPACE_OR_CONTROL))
    scheme, colon, rest = text.partition(":")
    if not colon or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        return "", ""
    authority = re.split(r"[/\\?#]", rest.replace("\\", "/").lstrip("/"), maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    host = host[1 : host.index("]")] if host.startswith("[") and "]" in host else host.rpartition(":")[0] or host
    return scheme.lower(), host.lower()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:  # the numeric forms browsers read as IPv4 ("127.1", "2130706433", "0x7f.1"), as the C library reads them
        return ipaddress.ip_address(socket.inet_aton(host)).is_loopback
    except OSError:
        return False


schemes = st.sampled_from(
    [
        "https",
        "http",
        "HTTPS",
        "HtTp",
        "javascript",
        "JavaScript",
        "data",
        "DATA",
        "file",
        "blob",
        "vbscript",
        "ftp",
        "about",
        "jav\tascript",
        " javascript",
        "java\nscript",
    ]
)
hosts = st.sampled_from(
    [
        "media.example",
        "localhost",
        "LOCALHOST",
        "127.0.0.1",
        "[::1]",
        "127.1",
        "0x7f.0.0.1",
        "2130706433",
        "evil.example",
        "localhost.evil.example",
        "[bad",
        "",
        "user:pw@media.example",
        "localhost@evil.example",
        "evil.example\\@localhost",
        "localhost\\evil.example",
        "localhost:80",
        "[::ffff:127.0.0.1]",
    ]
)
urls = st.one_of(
    st.builds(
        lambda prefix, scheme, slashes, host, path: f"{prefix}{scheme}:{slashes}{host}{path}",
        st.sampled_from(["", " ", "\t", "\x00", "\x1f", "\n"]),
        schemes,
        st.sampled_from(["//", "", "/", "\\\\", "///", "/\\"]),
        hosts,
        st.sampled_from(
            ["", "/a.png", "/a.png?x=1#y", "#@evil.example", "?@evil.example", "/%2e%2e/", "\njavascript:alert(1)"]
        ),
    ),
    st.builds(
        lambda scheme, mime, encoding, body: f"{scheme}:{mime}{encoding},{body}",
        st.sampled_from(["data", "DATA", "Data", " data", "da\tta"]),
        st.sampled_from(
            ["image/png", "image/jpeg", "image/svg+xml", "text/html", "image/png;charset=utf-8", "IMAGE/PNG", ""]
        ),
        st.sampled_from([";base64", "", ";BASE64", ";base64;x=1"]),
        st.sampled_from(
            ["iVBORw0KGgo=", "<script>alert(1)</script>", "PHN2Zz48L3N2Zz4=", "AAAA\n<svg>", "%3Cscript%3E"]
        ),
    ),
    st.text(max_size=40),
    not_text,
)


@settings(max_examples=500, deadline=None)
@given(url=urls)
@example(url="https://[bad/a.png")  # urlsplit raises a plain ValueError for it: it escaped the widget
@example(url="http://[::1")
def test_only_https_loopback_http_and_image_data_urls_reach_the_browser(url: Any) -> None:
    try:
        shown = check_media_url(url)
    except UnsafeUrl as exc:
        reason = str(exc)
    else:
        reason = ""
    if reason:
        return  # refused, with a reason the widget can show
    scheme, host = browser_view(shown)
    assert scheme in ("https", "http", "data"), f"{url!r} was let through as {scheme!r}"
    if scheme == "http":
        assert _loopback(host), f"{url!r}: plain http to {host!r} was let through"
    if scheme == "data":
        # Scheme and media type are case-blind (RFC 2397), the base64 is not.
        assert re.fullmatch(r"(?i:data:image/(png|jpeg|webp|gif);base64,)[A-Za-z0-9+/]*={0,2}", shown), shown
    for setting in (True, False, "auto"):
        should_embed(shown, setting)


@settings(max_examples=200, deadline=None)
@given(url=urls, setting=st.sampled_from([True, False, "auto"]))
@example(url="https://[bad", setting="auto")
def test_deciding_whether_to_embed_never_raises(url: Any, setting: Any) -> None:
    if isinstance(url, str):
        assert should_embed(url, setting) in (True, False)


@pytest.mark.parametrize(
    "url",
    [
        "https://media.example/a.png",
        "http://localhost:8888/files/a.png",
        "http://127.0.0.1/a.png",
        "http://[::1]:9000/a.mp4",
        "data:image/png;base64,iVBORw0KGgo=",
        "  https://media.example/a.png\n",
    ],
)
def test_the_urls_that_should_be_shown_are(url: str) -> None:
    assert check_media_url(url) == url.strip()
