"""The language server: `whuffie lsp`, editor features over the front end's results.

Each feature is a plain function of an ``analysis.Analysis`` (one rule file run
through the front end, with an index of its declared names and their
references); ``server`` only wires them to pygls.
"""
