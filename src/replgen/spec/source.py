"""YAML to plain data, keeping where every key and value came from and how it was written.

PyYAML keeps the last of two equal keys without a word; a topology where
`prod` is defined twice must not compile, so mappings are built here from the
composed node tree, which also gives each node's position. The text of every
scalar is kept too: YAML reads `011111111111` as an octal number and `15.10` as
15.1, and a message must quote what the user wrote, not what YAML made of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from replgen.errors import KeyPath, Mark, Problem, SpecError, dotted

# A spec is a few hundred values nested a few levels deep; far beyond that is an attack
# (a billion-laughs document of nested aliases) or a mistake, refused before it costs.
MAX_VALUES = 20_000
MAX_DEPTH = 40
MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Source:
    """The file a spec was read from and the position of every key path in it."""

    filename: str
    marks: dict[KeyPath, Mark] = field(default_factory=dict)
    texts: dict[KeyPath, str] = field(default_factory=dict)  # scalar values as written
    problems: list[Problem] = field(default_factory=list)  # found while reading, not fatal

    def locate(self, path: KeyPath) -> Mark:
        """Position of `path`, or of its nearest ancestor present in the file."""
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return Mark(1, 1)

    def has(self, path: KeyPath) -> bool:
        return path in self.marks

    def text(self, path: KeyPath) -> str | None:
        """The scalar at `path` exactly as the file spells it."""
        return self.texts.get(path)

    def where(self, problem: Problem) -> Mark:
        return problem.mark or self.locate(problem.path)

    def format(self, problem: Problem) -> str:
        mark = self.where(problem)
        where = f"{self.filename}:{mark.line}:{mark.column}"
        return f"{where}: {dotted(problem.path)}: {problem.message}"


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: Source) -> None:
        self.loader = loader
        self.source = source
        self.values = 0

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self._count(node, path)
        self.source.marks.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        self.source.texts[path] = str(node.value)
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError) as exc:  # e.g. an integer of 5,000 digits
            message = f"cannot read {node.value[:40]!r}: {exc}"
            raise SpecError([Problem(path, message, _mark(node))]) from None

    def _count(self, node: yaml.Node, path: KeyPath) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            message = f"more than {MAX_VALUES} values (aliases that expand without end?)"
            raise SpecError([Problem((), message, _mark(node))])
        if len(path) > MAX_DEPTH:
            raise SpecError([Problem((), f"nested more than {MAX_DEPTH} levels", _mark(node))])

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        own = [(k, v) for k, v in node.value if k.tag != MERGE]
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:  # `<<: *base`: merged keys, overridden by the node's own
                out.update(self._merged(value_node, path))
        merged = set(out)
        for key_node, value_node in own:
            key = self._key(key_node, path)
            if key is None:
                continue
            here = (*path, key)
            if key in out and key not in merged:
                first = self.source.marks[here].line
                message = f"duplicate key {key!r} (first defined on line {first})"
                self.source.problems.append(Problem(here, message, _mark(key_node)))
                continue
            merged.discard(key)
            # A key's own position is where users look, not where its value starts.
            self.source.marks[here] = _mark(key_node)
            out[key] = self.build(value_node, here)
        return out

    def _merged(self, node: yaml.Node, path: KeyPath) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out: dict[str, Any] = {}
        for source in reversed(sources):  # the first mapping listed wins
            value = self.build(source, path)
            if not isinstance(value, dict):
                message = "`<<` merges mappings only (an alias of a mapping, or a list of them)"
                self.source.problems.append(Problem(path, message, _mark(source)))
                continue
            out.update(value)
        return out

    def _key(self, node: yaml.Node, path: KeyPath) -> str | None:
        raw = self.loader.construct_object(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            text = node.value if isinstance(node, yaml.ScalarNode) else node.tag.rsplit(":", 1)[-1]
            message = f"key {str(text)[:40]!r} is not a plain name"
            self.source.problems.append(Problem(path, message, _mark(node)))
            return None
        return str(raw)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    at = Mark(mark.line + 1, mark.column + 1) if mark else Mark(1, 1)
    text = str(exc.problem or exc)
    if "'\\t'" in text:
        text = "a tab character: YAML indents with spaces only (replace the tab with spaces)"
    return Problem((), f"invalid YAML: {text}", at)


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> Problem:
    """A character YAML does not allow (a control character), at its line and column."""
    at = exc.position
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    char = exc.character
    shown = f"U+{char:04X}" if isinstance(char, int) else repr(char)
    message = f"invalid YAML: character {shown} is not allowed in YAML ({exc.reason})"
    return Problem((), message, Mark(line, column))


def parse(text: str, filename: str) -> tuple[Any, Source]:
    """Parse YAML text into plain data and the positions of its key paths.

    Mistakes that leave the rest readable (a duplicate key) are kept in `source.problems`;
    ones that do not raise SpecError.
    """
    source = Source(filename)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise SpecError([_reader_problem(text, exc)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError([Problem((), "the file is empty", Mark(1, 1))])
        return _Builder(loader, source).build(node, ()), source
    except yaml.MarkedYAMLError as exc:
        raise SpecError([_yaml_problem(exc)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem((), f"invalid YAML: {exc}", Mark(1, 1))]) from None
    except RecursionError:
        message = f"nested more than {MAX_DEPTH} levels"
        raise SpecError([Problem((), message, Mark(1, 1))]) from None
    finally:
        loader.dispose()
