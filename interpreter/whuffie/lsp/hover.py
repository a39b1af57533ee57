"""Hover: what a name under the cursor is, in the checker's terms, with its declaration in canonical form."""

from __future__ import annotations

from lsprotocol import types as lsp

from .. import nodes as n
from ..formatter import format_decl, format_expr, format_field
from .analysis import Analysis
from .names import Declaration, Reference, kind_of


def hover(analysis: Analysis, position: lsp.Position) -> lsp.Hover | None:
    """Markdown about the declared name (or its use) under the cursor, or None."""
    line, col = analysis.lines.from_lsp(position)
    entry = analysis.index.at(analysis.file, line, col)
    if entry is None:
        return None
    decl = analysis.index.declarations.get(entry.key)
    if decl is None:
        return None
    text = describe(analysis, decl, entry)
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text),
                     range=analysis.lines.range(entry.span))


def describe(analysis: Analysis, decl: Declaration, entry: Declaration | Reference | None = None) -> str:
    """The hover text of a declared name."""
    node = decl.node
    space, name = decl.key
    lines = [f"**{decl.kind}** `{name}`" + _type_suffix(analysis, decl, entry)]
    if isinstance(node, n.Field):
        owner = space.split(":", 1)[1]
        lines.append(f"field of {_owner_kind(analysis, owner)} `{owner}`: `{format_field(node)}`")
        if node.range is not None:
            lines.append(f"range {_number(node.range.low)} to {_number(node.range.high)}")
        if node.protected:
            lines.append("protected: no rule may read it")
    elif isinstance(node, n.Param):
        lines.append(f"parameter of def `{space.split(':', 1)[1]}`: `{node.type.name}`")
    elif isinstance(node, n.AuthorDecl):
        if node.description:
            lines.append(node.description)
        owned = owned_by(analysis, name)
        lines.append("owns " + (", ".join(f"{kind_of(item)} `{item.name}`" for item in owned) if owned
                                 else "nothing"))
    else:
        lines += _provenance(node)
        if isinstance(node, n.ScoreDecl):
            lines.append(f"formula: `{format_expr(node.expr)}`")
        elif isinstance(node, n.RuleDecl):
            lines += _rule_lines(node)
    doc = leading_comment(analysis, node)
    if doc:
        lines.append(doc)
    if not isinstance(node, (n.Field, n.Param, n.AuthorDecl)) and hasattr(node, "span"):
        lines.append("```whuffie\n" + format_decl(node) + "\n```")
    if decl.span.file != analysis.file:
        lines.append(f"from `{decl.span.file}`")
    return "\n\n".join(lines)


def leading_comment(analysis: Analysis, node) -> str | None:
    """The comment lines just above a declaration (a stdlib def's documentation, say)."""
    span = getattr(node, "span", None)
    if span is None or not hasattr(node, "name_span"):
        return None
    if span.file == analysis.file:
        program = analysis.program
    else:
        from .names import module_program_of

        program = module_program_of(span.file)
    if program is None:
        return None
    above = {c.span.line: c.text.strip() for c in program.comments if not c.trailing}
    found, line = [], span.line - 1
    while line in above:
        found.insert(0, above[line])
        line -= 1
    return " ".join(found) or None


def _type_suffix(analysis: Analysis, decl: Declaration, entry) -> str:
    checked = analysis.checked
    node = decl.node
    if isinstance(node, n.Field):
        return f": {node.type.name}{'?' if node.optional else ''}"
    if isinstance(node, n.Param):
        return f": {node.type.name}"
    if checked is None:
        return ""
    name = decl.key[1]
    if isinstance(entry, Reference) and id(entry.node) in checked.types:
        return f": {checked.types[id(entry.node)]}"
    found = {n.ScoreDecl: checked.score_types, n.MeasureDecl: checked.measure_types, n.DefDecl: checked.def_types}
    table = found.get(type(node))
    if table and name in table:
        return f": {table[name]}"
    if isinstance(node, (n.TierDecl,)):
        return ": tier"
    if isinstance(node, n.PrivilegeDecl):
        return ": bool"
    return ""


def _provenance(node) -> list[str]:
    out = []
    if isinstance(node, n._Provenance):
        if node.by:
            out.append(f"by `{node.by}`")
        if node.because:
            out.append(f"because “{node.because}”")
        if node.cites:
            out.append("cites " + "; ".join(f"“{c}”" for c in node.cites))
    return out


def _rule_lines(rule: n.RuleDecl) -> list[str]:
    out = []
    on = rule.first(n.On)
    if on is not None:
        out.append(f"on event `{on.event.name}`")
    limits = [c for c in rule.clauses if isinstance(c, (n.Cap, n.Once, n.Decay))]
    for c in limits:
        if isinstance(c, n.Cap):
            out.append(f"cap {_number(c.amount)}" + (f" per {c.window}" if c.window else " total"))
        elif isinstance(c, n.Once):
            out.append("once" + (f" per {c.window}" if c.window else ""))
        else:
            out.append(f"decay, half-life {_number(c.half_life.amount)} {c.half_life.unit}")
    return out


def owned_by(analysis: Analysis, author: str) -> list:
    """The declarations whose `by` names the author, in source order."""
    program = analysis.program
    if program is None:
        return []
    return [item for item in program.items if isinstance(item, n._Provenance) and item.by == author]


def _owner_kind(analysis: Analysis, owner: str) -> str:
    return "subject kind" if ("kind", owner) in analysis.index.declarations else "event"


def _number(value: int | float) -> str:
    from ..formatter import format_number

    return format_number(value)
