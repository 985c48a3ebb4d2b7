"""Skip the import behind pydantic's plugin discovery when plugins are disabled.

pydantic asks ``pydantic.plugin._loader.get_plugins()`` for plugins each time it builds a
validator. That module imports ``importlib.metadata`` at its top (with email, zipfile, csv and
more: about 13 ms, 7% of a ``costcalc quote``) even when ``PYDANTIC_DISABLE_PLUGINS`` says
there are none to find. :func:`install` puts a stand-in module in its place, for the CLI's
process only: it answers "no plugins" exactly when pydantic's own ``get_plugins`` would, and
hands everything else (another value of the variable, any other name) to the real module,
imported then. A pydantic that no longer has the module never asks for it, so the stand-in
costs nothing there either.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Iterable
from typing import Any

LOADER = "pydantic.plugin._loader"
DISABLED = ("__all__", "1", "true")
"""The values of PYDANTIC_DISABLE_PLUGINS for which pydantic's get_plugins() returns ()."""


class _LoaderStandIn(types.ModuleType):
    def get_plugins(self) -> Iterable[Any]:
        if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in DISABLED:
            return ()
        plugins: Iterable[Any] = _real_loader().get_plugins()
        return plugins

    def __getattr__(self, name: str) -> Any:
        # The import system probes modules for dunders such as __path__; they must not load it.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real_loader(), name)


def _real_loader() -> types.ModuleType:
    if isinstance(sys.modules.get(LOADER), _LoaderStandIn):
        del sys.modules[LOADER]
    return importlib.import_module(LOADER)


def install() -> bool:
    """Put the stand-in in place unless pydantic's loader is already imported; say if it was."""
    if LOADER in sys.modules:
        return False
    sys.modules[LOADER] = _LoaderStandIn(LOADER, __doc__)
    return True
