"""Where the exported decoder graphs live: names and paths only (torch-free, so the route
that serves the files to the page loads no model code)."""

from __future__ import annotations

from pathlib import Path

# Names the exported graph's form; part of the cached .onnx file name.
DECODER_GRAPH = "lowres-folded-v3"
# The parts the page's in-page decoder fetches (decoder.onnx?part=...).
PAGE_GRAPHS = ("full", "image", "prompt")


def graph_path(full_path: Path, part: str) -> Path:
    """Where graph part is stored beside the full graph's file (full_path for "full")."""
    return full_path if part == "full" else full_path.with_suffix(f".{part}.onnx")
