"""Weifu: after-sales service network management."""

import importlib
import sys
import types


class _Deferred(types.ModuleType):
    """A stand-in for a module imported where it is almost never used: the real one is imported on
    the first use of one of its names, and takes its place."""

    def __getattr__(self, name: str):
        del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


# Piccolo's app registry (server.domains) imports black to format a new migration file: 6 MB in
# every worker and 24 ms at start, used by `piccolo migrations new` only.
sys.modules.setdefault("black", _Deferred("black"))
