"""A scripted editor: `whuffie lsp` started as a subprocess and driven over stdio by pygls's own client."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]


class EditorSession:
    """One server process and one client; every call blocks until the server answers."""

    def __init__(self, options: dict | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = LanguageClient("test-editor", "1")
        self.diagnostics: dict[str, list[lsp.Diagnostic]] = {}
        self.published: list[str] = []  # the URI of every publishDiagnostics, in order
        self._published = asyncio.Event()
        self.versions: dict[str, int] = {}

        @self.client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)
            self.published.append(params.uri)
            self._published.set()

        env = dict(os.environ, PYTHONPATH=str(ROOT / "interpreter"))
        self.run(self.client.start_io(sys.executable, "-m", "whuffie", "lsp", env=env))
        self.capabilities = self.run(self.client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), root_uri=ROOT.as_uri(),
            initialization_options=options or {}))).capabilities
        self.client.initialized(lsp.InitializedParams())

    def run(self, awaitable, timeout: float = 60):
        return self.loop.run_until_complete(asyncio.wait_for(awaitable, timeout))

    def open(self, uri: str, text: str) -> list[lsp.Diagnostic]:
        """Open a document and wait for its diagnostics."""
        self._published.clear()
        self.versions[uri] = 1
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="whuffie", version=1, text=text)))
        return self.wait_diagnostics(uri)

    def change(self, uri: str, text: str, wait: bool = True) -> list[lsp.Diagnostic] | None:
        """Replace the whole text (one change event) and wait for the diagnostics after the debounce."""
        self._published.clear()
        self.versions[uri] += 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
        return self.wait_diagnostics(uri) if wait else None

    def edit(self, uri: str, at: lsp.Range, text: str) -> list[lsp.Diagnostic]:
        """An incremental change of one range, as editors send while typing."""
        self._published.clear()
        self.versions[uri] += 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            content_changes=[lsp.TextDocumentContentChangePartial(range=at, text=text)]))
        return self.wait_diagnostics(uri)

    def configure(self, settings: dict) -> None:
        self.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=settings))

    def wait_diagnostics(self, uri: str) -> list[lsp.Diagnostic]:
        self.run(self._published.wait())
        return self.diagnostics[uri]

    def doc(self, uri: str) -> lsp.TextDocumentIdentifier:
        return lsp.TextDocumentIdentifier(uri=uri)

    def hover(self, uri: str, line: int, character: int):
        return self.run(self.client.text_document_hover_async(lsp.HoverParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=character))))

    def definition(self, uri: str, line: int, character: int):
        return self.run(self.client.text_document_definition_async(lsp.DefinitionParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=character))))

    def references(self, uri: str, line: int, character: int):
        return self.run(self.client.text_document_references_async(lsp.ReferenceParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=character),
            context=lsp.ReferenceContext(include_declaration=True))))

    def complete(self, uri: str, line: int, character: int) -> list[str]:
        result = self.run(self.client.text_document_completion_async(lsp.CompletionParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=character))))
        items = result.items if isinstance(result, lsp.CompletionList) else result or []
        return [item.label for item in items]

    def format(self, uri: str):
        return self.run(self.client.text_document_formatting_async(lsp.DocumentFormattingParams(
            text_document=self.doc(uri), options=lsp.FormattingOptions(tab_size=2, insert_spaces=True))))

    def rename(self, uri: str, line: int, character: int, new_name: str):
        return self.run(self.client.text_document_rename_async(lsp.RenameParams(
            text_document=self.doc(uri), position=lsp.Position(line=line, character=character), new_name=new_name)))

    def code_actions(self, uri: str, diagnostics: list[lsp.Diagnostic]):
        at = diagnostics[0].range
        return self.run(self.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=self.doc(uri), range=at, context=lsp.CodeActionContext(diagnostics=diagnostics))))

    def symbols(self, uri: str):
        return self.run(self.client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
            text_document=self.doc(uri))))

    def semantic_tokens(self, uri: str) -> list[int]:
        result = self.run(self.client.text_document_semantic_tokens_full_async(
            lsp.SemanticTokensParams(text_document=self.doc(uri))))
        return list(result.data)

    def code_lenses(self, uri: str):
        return self.run(self.client.text_document_code_lens_async(lsp.CodeLensParams(text_document=self.doc(uri))))

    def inlay_hints(self, uri: str, lines: int):
        whole = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=lines, character=0))
        return self.run(self.client.text_document_inlay_hint_async(lsp.InlayHintParams(
            text_document=self.doc(uri), range=whole)))

    def close(self) -> int:
        """shutdown, exit, wait for the process to end; its exit code."""
        self.run(self.client.shutdown_async(None))
        self.client.exit(None)
        self.run(self.client.stop())
        self.loop.close()
        return self.client._server.returncode


def apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: columns are characters) to a text."""
    lines = text.split("\n")

    def offset(p: lsp.Position) -> int:
        return sum(len(line) + 1 for line in lines[:p.line]) + p.character

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text
