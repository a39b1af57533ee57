"""One version of one document, through the front end: what every editor feature reads.

The ruleset is the checker's when the file has no error; otherwise the
declaration tables are built from whatever the parser recovered, so hover,
definition and completion keep working on the rest of a file with a mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from .. import nodes as n
from ..frontend import Loaded
from ..inputs import paused_gc
from ..symbols import Ruleset, build
from .incremental import IncrementalParser
from .names import NameIndex, build_index
from .positions import LineTable


def path_of(uri: str) -> str:
    """The file path of a file: URI (other URIs are kept as they are, as a name)."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


@dataclass
class Analysis:
    """A document's text, the front end's result, its lines and its name index."""

    uri: str
    loaded: Loaded
    lines: LineTable
    tables: Ruleset | None  # the checked ruleset, or the tables of what parsed
    _index: NameIndex | None = field(default=None, repr=False)

    @property
    def index(self) -> NameIndex:
        """The name index, built on first use: publishing diagnostics after a key never needs it."""
        if self._index is None:
            program = self.loaded.program
            self._index = build_index(program) if program is not None else NameIndex()
        return self._index

    @property
    def file(self) -> str:
        return self.loaded.path

    @property
    def text(self) -> str:
        return self.loaded.source or ""

    @property
    def program(self) -> n.Program | None:
        return self.loaded.program

    @property
    def checked(self) -> Ruleset | None:
        """The checker's ruleset (with inferred types), only when the file has no error."""
        return self.loaded.ruleset


class Workspace:
    """The open documents, each with its incremental parser and latest analysis."""

    def __init__(self) -> None:
        self._parsers: dict[str, IncrementalParser] = {}
        self.analyses: dict[str, Analysis] = {}

    def update(self, uri: str, text: str) -> Analysis:
        """Analyse a new version of a document."""
        parser = self._parsers.setdefault(uri, IncrementalParser(path_of(uri)))
        # The front end builds many objects and no cycles; collector passes over a large file's
        # AST added up to 80 ms to some keys (benchmarks/bench_lsp.py).
        with paused_gc():
            self.analyses[uri] = analysis = analyse(uri, text, parser)
        return analysis

    def close(self, uri: str) -> None:
        self._parsers.pop(uri, None)
        self.analyses.pop(uri, None)

    def get(self, uri: str) -> Analysis | None:
        return self.analyses.get(uri)


def analyse(uri: str, text: str, parser: IncrementalParser | None = None) -> Analysis:
    """Run the front end over a document's text and index its names."""
    parser = parser or IncrementalParser(path_of(uri))
    loaded = parser.load(text)
    program = loaded.program
    tables = loaded.ruleset or (build(program) if program is not None else None)
    return Analysis(uri, loaded, LineTable(text), tables)


def uri_of(path: str) -> str:
    """A file: URI for a path."""
    return Path(path).resolve().as_uri()
