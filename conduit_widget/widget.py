"""`GenerationWidget`: a generation task as a live notebook widget (anywidget), a thin view over the client.

Everything that changes a trait runs on the kernel's event loop, never in a thread (ipykernel 7 broke
thread-driven widget updates); nothing blocks a cell. marimo (0.25) runs its loop between cells too (its control
loop awaits the next request in an executor), so the same rule holds there; a task adopted from another visitor's
loop is followed on its own loop and its updates handed back to this one (request_memo). Hub progress can arrive thousands of times a second,
so updates reach the browser coalesced: at most one message per ``UPDATE_INTERVAL``, several traits at once,
and the final state always exact. The API key is not a trait: it never reaches the browser or a saved notebook.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from pathlib import Path
from typing import Any, Final, Literal

import traitlets

from conduit_widget import details, front_end, media_channel, recording, request_memo, runs, saving, static_copy
from conduit_widget.client import ConduitClient, ConduitError, ConfigurationError, RateLimitError, inputs
from conduit_widget.client.models import TERMINAL, TaskResult, TaskUpdate
from conduit_widget.client.task import Task, log_failure
from conduit_widget.coalesce import Coalescer
from conduit_widget.embedding import Downloads, EmbedMedia, embedded_media, safe_urls
from conduit_widget.run_inputs import RunInputs
from conduit_widget.shared_client import default_client, models_of

log = logging.getLogger(__name__)

UPDATE_INTERVAL: Final = 0.1  # seconds: about ten messages a second per widget, at most


class GenerationWidget(front_end.SyncedTraits):
    """``display(GenerationWidget(prompt="a red fox in snow"))``: live progress, then the result, inline."""

    def __init__(
        self,
        prompt: str = "",
        *,
        kind: str = "image",
        model: str | None = None,
        size: str | None = None,
        n: int = 1,
        duration: float | None = None,
        seed: int | None = None,
        auto_start: bool = True,
        client: ConduitClient | None = None,
        embed_media: EmbedMedia | Literal["full"] = "auto",
        compact: bool = False,
        editable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        if embed_media not in (True, False, "auto", "full"):
            raise ConfigurationError(f"embed_media must be True, False, 'auto' or 'full', got {embed_media!r}")
        unknown = sorted(name for name in kwargs if not self.has_trait(name))
        if unknown:  # a misspelt argument (modle=...) would otherwise be dropped with a DeprecationWarning
            raise ConfigurationError(f"GenerationWidget got unknown argument(s): {', '.join(unknown)}")
        if client is not None and not isinstance(client, ConduitClient):
            raise ConfigurationError(f"client must be a ConduitClient (or None for the default), got {client!r:.80}")
        if isinstance(duration, bool):
            raise ConfigurationError(f"duration must be a number of seconds, got {duration!r}")
        inputs.seed(seed)
        self.seed = seed  # not a synced trait: the front end has no seed box; each run copies it (RunInputs)
        try:
            super().__init__(
                prompt=prompt,
                kind=kind,
                model="" if model is None else model,  # not `model or ""`: model=0 is a mistake to name, not a default
                size="" if size is None else size,
                n=n,
                duration=0.0 if duration is None else duration,
                compact=compact,
                # Made from code with a prompt, the result is the point and the editor waits behind "Edit".
                editable=not prompt if editable is None else editable,
                static_id=uuid.uuid4().hex,
                **kwargs,
            )
        except traitlets.TraitError as exc:  # a wrong type: say which argument, not traitlets' internals
            raise ConfigurationError(f"GenerationWidget: {exc}") from None
        self._client = client
        self._owns_layout = "layout" not in kwargs  # a Layout passed in may be shared: not ours to close
        self._closed = False
        self._embed: EmbedMedia = True if embed_media == "full" else embed_media
        self._media_in_saved_state = embed_media == "full"  # else the media traits hold previews (media_channel)
        self._task: Task | None = None
        self._run: asyncio.Task[Task | None] | None = None
        self._inputs = RunInputs.of(self)  # the last run's own copy of its inputs (see run_inputs)
        self._clock = details.RunClock(0.0)
        self._progress = Coalescer(self._show_progress, UPDATE_INTERVAL)
        self._unhook: list[Any] = []
        self._unhook_task: Any = None
        self._static_handles: list[Any] = []
        self._static_bundle: dict[str, Any] | None = None
        self._downloads = Downloads(self._get_client)  # the current result's media, fetched once
        self._media = media_channel.MediaChannel(self)  # its full bytes: the traits hold previews (media_channel)
        self._loop = runs.running_loop()
        self._adopt = auto_start and request_memo.applies()  # a marimo re-run is no request for a new picture
        self.on_msg(self._on_front_end_message)
        if self._loop is not None:
            self._spawn(self._prepare())
        if auto_start:
            self.generate()

    def __repr__(self) -> str:
        return f"<GenerationWidget {self.kind} {self.prompt[:40]!r} {self.status} {self.progress}%>"

    # -- the public API ------------------------------------------------------------------------

    @property
    def task(self) -> Task | None:
        """The client's handle on the current task (None before the first generate)."""
        return self._task

    @property
    def static_copy(self) -> dict[str, Any] | None:
        """The display bundle of the finished result's static copy (None until it has finished)."""
        return self._static_bundle

    @property
    def result(self) -> TaskResult | None:
        return self._task.result if self._task is not None else None

    def generate(self) -> asyncio.Future[Task | None] | None:
        """(Re)start with the current prompt and settings. Returns an awaitable of the Task (of None if the
        input was refused: the widget says why), or None if no event loop is running."""
        if self._closed:
            raise ConduitError(runs.CLOSED)
        problem = self._check_input()
        if problem is not None:
            with self.hold_sync():
                self._reset()
                self.status, self.error = "invalid", problem
            return runs.settled(None)
        if self._loop is None:
            self._loop = runs.running_loop()
        if self._loop is None:
            with self.hold_sync():
                self.status = "invalid"
                self.error = "No event loop is running: use the widget in Jupyter, or `await` the client in a script."
            return None
        self._stop_following()
        with self.hold_sync():
            self._reset()
            self.status, self.message, self.started_at = "pending", "Submitting…", time.time()
        self._inputs, self._clock = RunInputs.of(self), details.RunClock(self.started_at)
        self._run = self._loop.create_task(self._generate())
        self._run.add_done_callback(self._show_run_failure)
        return self._run

    def cancel(self) -> asyncio.Future[Any] | None:
        """Ask the server to cancel the running task; an awaitable of its result (of None if none is running)."""
        if self._closed:
            raise ConduitError(runs.CLOSED)
        task = self._task
        if task is None or task.done or self._loop is None:
            return runs.settled(None)
        return self._spawn(request_memo.on_owner_loop(task, task.cancel))

    async def wait(self, timeout: float | None = None) -> TaskResult:
        """The result of the current generation, once it ends (and its result is on display). After `timeout`
        seconds, a DeadlineExceededError (also the builtin TimeoutError): the task goes on, to be waited for again."""
        task = await runs.outcome(lambda: self._run, lambda: self._closed, timeout, self.__repr__)
        if task is None or task.result is None:
            raise ConduitError(self.error or "the task was not created")
        # Again, from the caller's cell: a front end that only takes output from the running cell (nbclient,
        # nbval) drops what the background run sent on behalf of the cell that started it.
        self._publish_static_copy()
        recording.record_now(self)
        return task.result

    async def save(self, path: saving.SavePath = None) -> list[Path]:
        """Write the result to `path`: a file (several images get -1, -2... before the extension), or a folder
        (a path ending in "/" or naming one) for files named after the prompt. The files written."""
        held = (list(self._media.full.media), list(self._media.full.types))
        return await saving.save_result(path, self._inputs.prompt, self.result, held, self._downloads.fetch_whole)

    def save_now(self, path: saving.SavePath = None) -> list[Path]:
        """`save` for code that cannot await: writes the media the widget holds; refuses if they need downloading."""
        held = (list(self._media.full.media), list(self._media.full.types))
        return saving.save_held(path, self._inputs.prompt, self.result, held)

    def close(self) -> None:
        """Close the widget: stop following its task (it goes on on the server) and let go of listeners."""
        if "_unhook" not in self.__dict__:  # its construction failed (ipywidgets' __del__ closes it all the same)
            super().close()
            return
        self._closed = True
        self._stop_following()
        for unhook in self._unhook:
            unhook()
        self._unhook.clear()
        layout = self.layout if self._owns_layout else None
        super().close()
        if layout is not None:
            # ipywidgets closes a widget but not the Layout widget it made for it: that would stay registered,
            # with its comm open, for as long as the kernel runs.
            layout.close()

    # -- display: the widget, and the static copy next to it ------------------------------------

    def _ipython_display_(self) -> None:
        self._static_handles.append(static_copy.display_with_placeholder(self))
        self._publish_static_copy()  # shown again after it finished: the copy is there from the start

    async def _write_static_copy(self, result: TaskResult) -> None:
        previews, full = self._media.previews, self._media.full  # the previews are its thumbnails, made once
        shown = (
            static_copy.Shown(*previews[:3], True) if previews != media_channel.NONE else static_copy.Shown(*full[:3])
        )
        self._static_bundle = await static_copy.static_copy_of(
            result, self._inputs.prompt, shown, self._downloads.fetch, self.static_id
        )
        self._publish_static_copy()

    def _publish_static_copy(self) -> None:
        if self._static_bundle is not None:
            for handle in self._static_handles:
                handle.update(self._static_bundle, raw=True)

    def _record_final_state(self) -> None:
        # Every synced trait but the front-end module, so that the recorded model is the final one, not a mix.
        self.send_state(front_end.recorded_traits(self.keys))
        self._publish_static_copy()

    # -- the run -------------------------------------------------------------------------------

    async def _prepare(self) -> None:
        """Things that need the client but not a task: the backend label, the model list, the connection."""
        client = await self._get_client()
        if self._closed:
            return  # closed before this ran: hooking the client now would keep the widget alive for good
        for name in ("connected", "reconnecting", "reconnected", "disconnected"):
            self._unhook.append(client.on(name, self._on_connection))
        # Those events say what changes from now on; a link that was up before this widget was made said it already.
        self.connection = self._connection_word(client.connection_state("video" if self.kind == "video" else "image"))
        try:
            self.models = await models_of(client)
        except ConduitError as exc:
            log.debug("no model list: %s", exc)
        self.backend = client.backend  # after a first answer: the local Conduit says it is one

    async def _generate(self) -> Task | None:
        client, run = await self._get_client(), self._inputs
        # Only a first run adopts (request_memo): generate(), and the browser's Generate and Retry, make new ones.
        adopt, self._adopt = self._adopt, False
        try:
            create = functools.partial(self._create, client)
            task = await request_memo.task_for(client.account, run, adopt, create, self._clock)
        except ConduitError as exc:
            with self.hold_sync():
                self.status, self.error = "failed", exc.message
                self.retryable = isinstance(exc, RateLimitError) or exc.status is None or (exc.status or 0) >= 500
                self.message = ""
            return None
        self._task, self._clock = task, request_memo.clock_of(task, self._clock)
        with self.hold_sync():
            self.task_id = task.id
            self.connection = client.connection_state(task.kind)
            self.backend = client.backend
        self._unhook_task = request_memo.follow(task, self._on_update)
        self._on_update(task.update)
        result = await request_memo.wait(task)
        await self._show_result(result)
        return task

    async def _create(self, client: ConduitClient) -> Task:
        run = self._inputs
        if run.kind == "video":
            # Whole seconds (_check_input saw to it), sent as an integer: a real Conduit refuses 4.0.
            duration = inputs.video_seconds(run.duration) if run.duration else None
            return await client.generate_video(
                run.prompt, model=run.model or None, size=run.size or None, duration=duration, seed=run.seed
            )
        return await client.generate_image(
            run.prompt, model=run.model or None, size=run.size or None, n=run.n, seed=run.seed
        )

    def _on_update(self, update: TaskUpdate) -> None:
        self._clock.saw(update.status, time.time())
        if update.done or self._loop is None:
            return  # the ending is shown by _show_result, all at once with its media
        self._progress.offer(update, self._loop)

    def _show_progress(self, update: TaskUpdate) -> None:
        if self.status in TERMINAL:
            return
        with self.hold_sync():  # one comm message for all five
            self.status, self.progress, self.message = update.status, update.progress, update.message or ""
            self.eta_seconds, self.elapsed_seconds = update.eta_seconds, update.elapsed_seconds

    async def _show_result(self, result: TaskResult) -> None:
        self._progress.drop()
        safe, refusals = safe_urls([*result.urls, *([result.preview_url] if result.preview_url else [])])
        media, types, poster, trouble = await embedded_media(result, self._embed, self._downloads.fetch)
        safe -= self._downloads.refused()
        full = media_channel.HeldMedia(media, types, poster, "image/png" if poster else "")
        held = await self._media.hold(full, previews_only=not self._media_in_saved_state)
        self._media.send_to_views()  # before the traits: a view then shows the full bytes at once, not a preview first
        update = self._task.update if self._task is not None else None
        with self.hold_sync():
            self.status = result.status
            self.progress = 100 if result.ok else (update.progress if update else self.progress)
            # The last step's message ("Storing the video") would read as if work were still going on.
            self.message = f"Finished in {result.elapsed_seconds:.1f} s" if result.ok else ""
            self.eta_seconds = None
            self.elapsed_seconds = result.elapsed_seconds
            # Only URLs the browser may load are sent to it; embedded media need none.
            self.image_urls = [u for u in result.image_urls if u in safe]
            self.image_url = self.image_urls[0] if self.image_urls else ""
            self.video_url = result.video_url if result.video_url in safe else ""
            self.preview_url = result.preview_url if result.preview_url in safe else ""
            self.media, self.media_types, self.poster, self.poster_type = held
            self.media_is_preview = held is not full and bool(held.media or held.poster)
            shown = bool(media) or not refusals
            self.error = result.error or trouble or ("" if shown else refusals[0])
            self.retryable = result.is_retryable or result.status == "timedout"
            if self._task is not None and self._client is not None:
                self.details = details.details_after(
                    result, self._inputs, self._task, self._client.rest.routes, (media, poster), self._clock
                )
        await self._write_static_copy(result)
        recording.finished(self, self._record_final_state)

    # -- plumbing --------------------------------------------------------------------------------

    async def _get_client(self) -> ConduitClient:
        if self._client is None:
            self._client = default_client()
        return await self._client.start()

    def _check_input(self) -> str | None:
        return front_end.problem_with(self.kind, self.prompt, self.n, self.size, self.duration)  # None: fine

    def _reset(self) -> None:
        if self._static_bundle is not None:  # a copy of the last result would show beside the new run's progress
            self._static_bundle = None
            for handle in self._static_handles:
                handle.update(static_copy.EMPTY, raw=True)
        self._downloads = Downloads(self._get_client)
        self.progress, self.message, self.error, self.retryable = 0, "", "", False
        self.eta_seconds, self.elapsed_seconds, self.started_at = None, 0.0, 0.0
        self.task_id, self.image_url, self.image_urls, self.video_url, self.preview_url = "", "", [], "", ""
        self.media, self.media_types, self.poster, self.poster_type, self.media_is_preview = [], [], b"", "", False
        self._media.clear()
        self.details = {}

    def _show_run_failure(self, run: asyncio.Task[Task | None]) -> None:
        if not run.cancelled() and run.exception() is not None and run is self._run and not self._closed:
            with self.hold_sync():  # not left at "Submitting…" for good
                self.status, self.message, self.error = "failed", "", runs.as_conduit_error(run.exception()).message

    def _stop_following(self) -> None:
        self._progress.drop()
        if self._unhook_task is not None:
            self._unhook_task()
            self._unhook_task = None
        task = self._task
        if task is not None and not task.done and self._client is not None and not request_memo.shared(task):
            self._client.forget(task)
        if self._run is not None and not self._run.done():
            self._run.cancel()

    def _on_front_end_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        command = content.get("type") if isinstance(content, dict) else None
        if command in ("generate", "retry"):
            self.generate()
        elif command == "cancel":
            self.cancel()
        elif command == "hello":  # a view asks whether a kernel holds its model: one that is restored hears nothing
            self.send({"type": "hello"})
            self._media.on_hello()  # the full bytes, which the traits (and so a saved notebook) do not hold
        else:
            log.debug("ignoring a front-end message: %r", content)

    def _on_connection(self, event: Any) -> None:
        if self._task is None or event.hub == self._task.kind:
            state = self._client.connection_state(event.hub) if self._client is not None else event.state
            self.connection = self._connection_word(state)

    @staticmethod
    def _connection_word(state: str) -> str:
        return "polling" if state == "disconnected" else state

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any] | None:
        loop = self._loop or runs.running_loop()
        if loop is None:
            coroutine.close()
            return None
        job: asyncio.Task[Any] = loop.create_task(coroutine)
        job.add_done_callback(functools.partial(log_failure, "a widget background job"))
        return job
