"""Test-only: `python -m ruff` runs ruff's WebAssembly build (test/tools/ruff.mjs) with node.

The pipelines run ruff from PyPI (`python -m ruff`, constraints.txt); this machine has no
PyPI, and npm has the same ruff release as @astral-sh/ruff-wasm-nodejs (package.json pins
the version constraints.txt names). ARPYPI_NODE names the node binary.
"""
