"""conduit-widget: watch Conduit image and video generation live in Jupyter.

The public API is re-exported here; the subpackages are ``server`` (the local Conduit) and, in later
releases, ``client`` and the widgets.
"""

from conduit_widget._version import __version__
from conduit_widget.server import LocalConduit

__all__ = ["LocalConduit", "__version__"]
