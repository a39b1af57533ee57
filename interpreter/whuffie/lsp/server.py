"""`whuffie lsp`: the pygls wiring of the editor features. Every answer comes from a feature module.

Diagnostics are published when a document opens and, debounced, after edits
(one analysis for a burst of keys). Requests always see the current text: if
an edit is still waiting for its analysis, the request runs it first.
"""

from __future__ import annotations

import asyncio

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer

from .. import __version__
from . import complete, diagnose, edits, hover, lens, navigate, semantic
from .analysis import Analysis, Workspace

DEBOUNCE_SECONDS = 0.15


class WhuffieServer(LanguageServer):
    """The language server, with the open documents' analyses and the lens settings."""

    def __init__(self) -> None:
        super().__init__("whuffie", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.documents = Workspace()
        self.settings = lens.LensSettings()
        self.results = lens.ResultCache()
        self.debounce = DEBOUNCE_SECONDS
        self.docs_base: str | None = None
        self._pending: dict[str, asyncio.TimerHandle] = {}

    # -- documents

    def current(self, uri: str) -> Analysis:
        """The analysis of the document's current text (made now if an edit is pending)."""
        text = self.workspace.get_text_document(uri).source
        analysis = self.documents.get(uri)
        if analysis is None or analysis.text != text:
            analysis = self.documents.update(uri, text)
        return analysis

    def publish(self, uri: str) -> None:
        """Analyse the document and publish its diagnostics."""
        self._pending.pop(uri, None)
        analysis = self.current(uri)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=uri, diagnostics=diagnose.to_lsp(analysis, self.docs_base)))

    def schedule(self, uri: str) -> None:
        """Publish after a quiet moment, so a burst of keys costs one analysis."""
        waiting = self._pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        if self.debounce <= 0:
            self.publish(uri)
            return
        self._pending[uri] = asyncio.get_running_loop().call_later(self.debounce, self.publish, uri)

    def configure(self, options: dict | None) -> None:
        """Apply settings given at initialisation or in workspace/didChangeConfiguration."""
        if not isinstance(options, dict):
            return
        options = options.get("whuffie", options)
        if not isinstance(options, dict):
            return
        if "debounce" in options:
            try:
                self.debounce = max(float(options["debounce"]), 0) / 1000
            except (TypeError, ValueError):
                self.window_show_message(lsp.ShowMessageParams(
                    type=lsp.MessageType.Warning,
                    message=f"whuffie: the debounce setting must be milliseconds, not {options['debounce']!r}"))
        if "docsBase" in options:
            self.docs_base = str(options["docsBase"]) or None
        base = self.workspace.root_path if self._workspace_ready() else None
        self.settings = lens.LensSettings(events=options.get("events") or None,
                                          subjects=options.get("subjects") or None,
                                          subject=options.get("subject") or None, base=base)

    def _workspace_ready(self) -> bool:
        try:
            self.workspace
            return True
        except Exception:  # before initialize there is no workspace yet
            return False

    def lens_results(self, analysis: Analysis):
        """The document's lens settings and its results on their events file (cached)."""
        settings = lens.settings_for(analysis, self.settings)
        return settings, self.results.results(analysis, settings)


def make_server() -> WhuffieServer:
    """A server with every feature registered."""
    server = WhuffieServer()

    @server.feature(lsp.INITIALIZE)
    def _initialize(ls: WhuffieServer, params: lsp.InitializeParams) -> None:
        ls.configure(params.initialization_options)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def _configuration(ls: WhuffieServer, params: lsp.DidChangeConfigurationParams) -> None:
        ls.configure(params.settings)
        for uri in list(ls.documents.analyses):
            ls.publish(uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def _open(ls: WhuffieServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def _change(ls: WhuffieServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def _save(ls: WhuffieServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def _close(ls: WhuffieServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        waiting = ls._pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        ls.documents.close(uri)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def _hover(ls: WhuffieServer, params: lsp.HoverParams):
        return hover.hover(ls.current(params.text_document.uri), params.position)

    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def _definition(ls: WhuffieServer, params: lsp.DefinitionParams):
        return navigate.definition(ls.current(params.text_document.uri), params.position)

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def _references(ls: WhuffieServer, params: lsp.ReferenceParams):
        return navigate.references(ls.current(params.text_document.uri), params.position,
                                   params.context.include_declaration)

    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[".", " "]))
    def _completion(ls: WhuffieServer, params: lsp.CompletionParams):
        items = complete.complete(ls.current(params.text_document.uri), params.position)
        return lsp.CompletionList(is_incomplete=False, items=items)

    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def _formatting(ls: WhuffieServer, params: lsp.DocumentFormattingParams):
        return edits.format_document(ls.current(params.text_document.uri))

    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def _symbols(ls: WhuffieServer, params: lsp.DocumentSymbolParams):
        return edits.outline(ls.current(params.text_document.uri))

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    def _prepare_rename(ls: WhuffieServer, params: lsp.PrepareRenameParams):
        return navigate.prepare_rename(ls.current(params.text_document.uri), params.position)

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    def _rename(ls: WhuffieServer, params: lsp.RenameParams):
        edit = navigate.rename(ls.current(params.text_document.uri), params.position, params.new_name)
        if isinstance(edit, str):  # the editor shows a failed request's message to the user
            raise JsonRpcInvalidParams(edit)
        return edit

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def _code_actions(ls: WhuffieServer, params: lsp.CodeActionParams):
        return edits.code_actions(ls.current(params.text_document.uri), params.context.diagnostics)

    @server.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, semantic.LEGEND_OPTIONS)
    def _semantic_tokens(ls: WhuffieServer, params: lsp.SemanticTokensParams):
        return semantic.semantic_tokens(ls.workspace.get_text_document(params.text_document.uri).source)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
    def _code_lens(ls: WhuffieServer, params: lsp.CodeLensParams):
        analysis = ls.current(params.text_document.uri)
        return lens.code_lenses(analysis, ls.lens_results(analysis)[1])

    @server.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
    def _inlay_hints(ls: WhuffieServer, params: lsp.InlayHintParams):
        analysis = ls.current(params.text_document.uri)
        settings, results = ls.lens_results(analysis)
        return lens.inlay_values(analysis, results, settings.subject)

    return server


def serve() -> None:
    """Speak LSP over standard input and output until the client says exit."""
    make_server().start_io()
