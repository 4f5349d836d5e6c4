"""The public API, pinned as httpx pins its own: a name added or dropped is a decision, made here on purpose."""

from __future__ import annotations

import builtins

import conduit_widget
import conduit_widget.client
from conduit_widget.client import errors

ERRORS = [
    "APIError",
    "AuthError",
    "ConduitError",
    "ConduitWarning",
    "ConfigurationError",
    "ConflictError",
    "DeadlineExceededError",
    "ForbiddenError",
    "HubError",
    "InsufficientBalanceError",
    "NetworkError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "UnsafeUrlError",
    "ValidationError",
]
CLIENT = ["Backoff", "ConduitClient", "ConnectionEvent", "Keepalive", "Task", "TaskResult", "TaskUpdate"]
HELPERS = ["generate_image", "generate_video"]


def test_the_package_exports_exactly_this() -> None:
    expected = [*ERRORS, *CLIENT, *HELPERS, "Gallery", "GenerationWidget", "LocalConduit", "__version__"]
    assert sorted(conduit_widget.__all__) == sorted(expected)
    for name in conduit_widget.__all__:
        assert getattr(conduit_widget, name) is not None, name


def test_the_client_package_exports_exactly_this() -> None:
    assert sorted(conduit_widget.client.__all__) == sorted([*ERRORS, *CLIENT, *HELPERS])
    for name in conduit_widget.client.__all__:
        assert getattr(conduit_widget.client, name) is getattr(conduit_widget, name), name


def test_a_star_import_shadows_no_builtin() -> None:
    for module in (conduit_widget, conduit_widget.client, errors):
        assert not set(module.__all__) & set(dir(builtins)), module.__name__


def test_the_0x_error_names_still_import_as_the_same_classes() -> None:
    assert conduit_widget.TimeoutError is errors.DeadlineExceededError  # type: ignore[attr-defined]
    assert conduit_widget.PermissionError is errors.ForbiddenError  # type: ignore[attr-defined]
    assert issubclass(errors.DeadlineExceededError, builtins.TimeoutError)
    assert issubclass(errors.ForbiddenError, builtins.PermissionError)


def test_every_exported_error_is_in_the_errors_modules_tree() -> None:
    """The tree in errors.py's docstring names every error class it exports."""
    tree = errors.__doc__ or ""
    for name in ERRORS:
        if name != "ConduitWarning":
            assert name in tree, name
