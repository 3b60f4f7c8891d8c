"""YAML to plain data, keeping where every key and value came from.

PyYAML keeps the last of two equal keys without a word; a topology where
`prod` is defined twice must not compile, so mappings are built here from the
composed node tree, which also gives each node's position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from replgen.errors import KeyPath, Mark, Problem, SpecError, dotted


@dataclass(frozen=True)
class Source:
    """The file a spec was read from and the position of every key path in it."""

    filename: str
    marks: dict[KeyPath, Mark] = field(default_factory=dict)

    def locate(self, path: KeyPath) -> Mark:
        """Position of `path`, or of its nearest ancestor present in the file."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return Mark(1, 1)

    def has(self, path: KeyPath) -> bool:
        return path in self.marks

    def format(self, problem: Problem) -> str:
        mark = problem.mark or self.locate(problem.path)
        where = f"{self.filename}:{mark.line}:{mark.column}"
        return f"{where}: {dotted(problem.path)}: {problem.message}"


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: Source) -> None:
        self.loader = loader
        self.source = source

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.source.marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # resolves `<<:` merge keys
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            raw = self.loader.construct_object(key_node, deep=True)
            if not isinstance(raw, str | int) or isinstance(raw, bool):
                raise SpecError(
                    [Problem(path, f"key {raw!r} is not a plain name", _mark(key_node))]
                )
            key = str(raw)
            here = (*path, key)
            if key in out:
                first = self.source.marks[here].line
                message = f"duplicate key {key!r} (first defined on line {first})"
                raise SpecError([Problem(here, message, _mark(key_node))])
            # A key's own position is where users look, not where its value starts.
            self.source.marks[here] = _mark(key_node)
            out[key] = self.build(value_node, here)
        return out


def parse(text: str, filename: str) -> tuple[Any, Source]:
    """Parse YAML text into plain data and the positions of its key paths."""
    source = Source(filename)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError([Problem((), "the file is empty", Mark(1, 1))])
        return _Builder(loader, source).build(node, ()), source
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
        raise SpecError([Problem((), f"invalid YAML: {exc.problem or exc}", at)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem((), f"invalid YAML: {exc}", Mark(1, 1))]) from None
    finally:
        loader.dispose()
