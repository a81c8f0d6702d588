"""The `ketalog` command line (console script `ketalog = ketalog.cli:main`).

main.py builds the parser from one module per command group (clinic, records, exports,
stock, trust, access, indications, feed, server); context.py is its composition root, the only
one of them that opens the store. Command modules import context and output, never main."""

from __future__ import annotations

from ketalog.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
