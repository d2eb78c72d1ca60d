"""The kubernetes package as the adapters use it (the client's ApiClient, Configuration, rest and
exceptions, CoreV1Api, the kubeconfig loader, the exec stream) without the 800 generated models
and 60 API classes that `import kubernetes` loads: its __init__ imports kubernetes.client, whose
__init__ imports every one of them. Reaching a cluster took 0.82-1.10 CPU-s with them and
0.31-0.64 without, and none of them is used: requests and answers here are plain dicts.

`kubernetes`, `kubernetes.client` and its `models` and `api` packages are entered in sys.modules
without running their __init__; the modules under them load from the installed files as usual.
A name that only such an __init__ defines (`kubernetes.client.V1Pod`, say) runs it on first use:
slower then, never wrong.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

# Names the adapters take from `kubernetes.client`, and the module that defines each.
_CLIENT_NAMES = {
    "ApiClient": "kubernetes.client.api_client",
    "Configuration": "kubernetes.client.configuration",
    "CoreV1Api": "kubernetes.client.api.core_v1_api",
}


def load() -> None:
    """Enters the packages, once per process; a no-op where kubernetes is imported already."""
    if "kubernetes" in sys.modules:
        return
    spec = importlib.util.find_spec("kubernetes")
    if spec is None or not spec.submodule_search_locations:
        return  # not installed: the adapters' own import says so
    root = Path(next(iter(spec.submodule_search_locations)))
    _package("kubernetes", root)
    _package("kubernetes.client", root / "client", _CLIENT_NAMES)
    _package("kubernetes.client.models", root / "client" / "models")
    _package("kubernetes.client.api", root / "client" / "api")


def _package(name: str, directory: Path, names: dict[str, str] | None = None) -> types.ModuleType:
    init = directory / "__init__.py"
    module = types.ModuleType(name)
    module.__spec__ = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(directory)])
    module.__path__, module.__file__, module.__package__ = [str(directory)], str(init), name

    def attribute(attr: str) -> Any:  # PEP 562: a name not set on the module yet
        if (directory / f"{attr}.py").is_file() or (directory / attr / "__init__.py").is_file():
            value = importlib.import_module(f"{name}.{attr}")  # a submodule: `from kubernetes import config`
        elif names and attr in names:
            value = getattr(importlib.import_module(names[attr]), attr)
        else:  # a name the adapters do not use: the package's __init__ after all
            del module.__dict__["__getattr__"]
            exec(compile(init.read_bytes(), str(init), "exec"), module.__dict__)  # the installed file
            if attr not in module.__dict__:
                raise AttributeError(f"module {name!r} has no attribute {attr!r}")
            value = module.__dict__[attr]
        setattr(module, attr, value)
        return value

    module.__getattr__ = attribute  # type: ignore[method-assign]
    sys.modules[name] = module
    # As the import system does for a package it loads, and must be done here: once a parent's own
    # __init__ has run, it no longer asks __getattr__, and `kubernetes.client.models` (which the
    # generated client's deserializer reads) would be missing.
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module
