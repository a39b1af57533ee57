"""Language-server latency: diagnostics of a generated 2,000-rule file after a one-character change.

Two figures:

* in process: ``Workspace.update`` (incremental parse, whole check, name index)
  plus the conversion to LSP diagnostics, for one digit typed into an award;
* over stdio: `whuffie lsp` as a subprocess with the debounce set to 0, from
  sending didChange (the one-character edit, as editors send it) to receiving
  and decoding publishDiagnostics (what an editor waits for, less the debounce
  of 150 ms that gathers a burst of keys).

Goal: under 300 ms on the development machine.

    .venv/bin/python benchmarks/bench_lsp.py [--rules N] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_frontend import generate  # noqa: E402
from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from whuffie.lsp.analysis import Workspace  # noqa: E402
from whuffie.lsp.diagnose import to_lsp  # noqa: E402

URI = "file:///bench/bench.whuf"


def versions(text: str, count: int) -> list[str]:
    """Successive texts, each one character different from the one before (a digit typed after `award 2`)."""
    at = text.index("award 2", len(text) // 2) + len("award 2")
    return [text[:at] + "1" * k + text[at:] for k in range(1, count + 1)]


def in_process(text: str, repeat: int) -> list[float]:
    workspace = Workspace()
    workspace.update(URI, text)
    times = []
    for version in versions(text, repeat):
        start = time.perf_counter()
        to_lsp(workspace.update(URI, version))
        times.append(time.perf_counter() - start)
    return times


async def over_stdio(text: str, repeat: int) -> list[float]:
    client = LanguageClient("bench", "1")
    published = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _diagnostics(params: lsp.PublishDiagnosticsParams) -> None:
        published.set()

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root / "interpreter"))
    await client.start_io(sys.executable, "-m", "whuffie", "lsp", env=env)
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(),
                                                       initialization_options={"debounce": 0}))
    client.initialized(lsp.InitializedParams())
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=URI, language_id="whuffie", version=1, text=text)))
    await published.wait()
    times = []
    at = text.index("award 2", len(text) // 2) + len("award 2")  # where versions() types its digits
    line = text.count("\n", 0, at)
    column = at - (text.rfind("\n", 0, at) + 1)
    for number in range(2, repeat + 2):
        published.clear()
        typed = lsp.Position(line=line, character=column + number - 2)
        start = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=URI, version=number),
            content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=typed, end=typed),
                                                                  text="1")]))
        await published.wait()
        times.append(time.perf_counter() - start)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def main() -> None:
    """Run the benchmark and print a small report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    text = generate(args.rules)
    print(f"input: {args.rules} rules, {text.count(chr(10))} lines; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    local = in_process(text, args.repeat)
    print(f"in process: best {min(local) * 1000:.0f} ms, median {statistics.median(local) * 1000:.0f} ms")
    remote = asyncio.run(over_stdio(text, args.repeat))
    print(f"over stdio: best {min(remote) * 1000:.0f} ms, median {statistics.median(remote) * 1000:.0f} ms "
          f"(goal < 300 ms)")


if __name__ == "__main__":
    main()
