"""Stand-in for ``cryptography`` in the lab's offline JupyterLite build (tools/lite_stubs).

moto imports ``cryptography`` when it loads EC2, IAM and other services; the real package is
compiled and comes from Pyodide's distribution, which the offline build does not have. Every
``cryptography.*`` module imports; every name in it is a placeholder class that refuses to be
used, so moto loads and only what makes or reads keys and certificates (EC2 key pairs…) fails.
"""

import importlib.abc
import importlib.machinery
import sys
import types

MESSAGE = (
    "cryptography is a stand-in in this offline build of the lab (tools/lite_stubs): "
    "keys and certificates cannot be made here"
)


class _Placeholder(type):
    """The type of every placeholder: any attribute is another placeholder."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return placeholder(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args, **kwargs):
        raise NotImplementedError(MESSAGE)


_made: dict[str, type] = {}


def placeholder(name: str) -> type:
    if name not in _made:
        _made[name] = _Placeholder(name, (), {"__qualname__": name})
    return _made[name]


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return placeholder(f"{self.__name__}.{name}")


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes every ``cryptography.*`` submodule a stub module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(__name__ + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _StubFinder())
sys.modules[__name__].__class__ = _StubModule
