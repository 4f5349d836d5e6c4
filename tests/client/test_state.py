"""The task state machine: progress only rises, an ending is final and told once, repeats are not news."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from conduit_widget.client.models import TaskEvent
from conduit_widget.client.state import TaskState

T = "task-1"


def progress(value: float, **extra) -> TaskEvent:
    return TaskEvent(T, "hub", status="processing", progress=value, **extra)


def test_progress_rises_and_a_lower_value_is_not_news():
    state = TaskState(T, "image")
    assert state.apply(progress(10)) is not None
    assert state.apply(progress(40)) is not None
    assert state.apply(progress(20)) is None
    assert state.apply(progress(40)) is None
    assert state.update.progress == 40


def test_100_comes_only_with_completion():
    state = TaskState(T, "image")
    update = state.apply(progress(100))
    assert update is not None and update.progress == 99
    assert update.status == "processing"


def test_completion_is_final_and_told_once():
    state = TaskState(T, "image")
    done = state.apply(TaskEvent(T, "hub", status="completed", image_urls=("https://a/1.png",)))
    assert done is not None and done.done and done.progress == 100
    assert state.apply(TaskEvent(T, "poll", status="completed", image_urls=("https://a/1.png",))) is None
    assert state.apply(TaskEvent(T, "hub", status="failed", error="late")) is None
    assert state.apply(progress(50)) is None
    assert state.result is not None and state.result.status == "completed"


def test_a_message_or_count_alone_is_news_and_a_missing_one_keeps_the_last():
    state = TaskState(T, "image")
    state.apply(progress(10, message="Sampling step 2/20"))
    assert state.apply(progress(10, images_completed=1)) is not None
    assert state.apply(progress(10)) is None
    assert state.update.message == "Sampling step 2/20"


def test_an_eta_comes_from_the_server_or_from_the_rate_seen():
    state = TaskState(T, "video")
    update = state.apply(TaskEvent(T, "hub", status="processing", eta_seconds=60))
    assert update is not None and update.eta_seconds is not None and 59 <= update.eta_seconds <= 60


def test_enrich_fills_only_missing_urls_of_the_same_ending():
    state = TaskState(T, "image")
    state.apply(TaskEvent(T, "hub", status="completed"))
    assert state.enrich(TaskEvent(T, "poll", status="failed", error="no")) is False
    assert state.enrich(TaskEvent(T, "poll", status="completed", image_urls=("https://a/1.png",))) is True
    assert state.result is not None and state.result.image_urls == ("https://a/1.png",)
    assert state.enrich(TaskEvent(T, "poll", status="completed", image_urls=("https://b/2.png",))) is False


events = st.one_of(
    st.builds(progress, st.floats(min_value=-10, max_value=150, allow_nan=False)),
    st.builds(lambda m: TaskEvent(T, "poll", status="pending", message=m), st.text(max_size=5)),
    st.sampled_from(
        [
            TaskEvent(T, "hub", status="completed", image_urls=("u",)),
            TaskEvent(T, "hub", status="failed", error="x"),
            TaskEvent(T, "poll", status="cancelled"),
            TaskEvent(T, "poll", status="timedout"),
        ]
    ),
)


@settings(max_examples=300)
@given(st.lists(events, max_size=40))
def test_any_order_of_any_events_keeps_the_rules(sequence):
    state = TaskState(T, "image")
    seen = []
    for event in sequence:
        update = state.apply(event)
        if update is not None:
            seen.append(update)
    shown = [u.progress for u in seen]
    assert shown == sorted(shown), "progress went backwards"
    assert all(0 <= p <= 100 for p in shown)
    assert sum(u.done for u in seen) <= 1, "an ending was told twice"
    if any(u.done for u in seen):
        assert seen[-1].done, "something was told after the ending"
        assert state.result is not None and state.result.status == seen[-1].status


def test_a_count_of_zero_said_again_is_not_news():
    state = TaskState(T, "image")
    assert state.apply(progress(5, images_completed=0, images_total=1)) is not None
    assert state.apply(progress(5, images_completed=0, images_total=1)) is None
