import os
import sys
from pathlib import Path

CLI = Path(__file__).resolve().parent.parent.parent / "ruff.mjs"
# --liftoff-only: V8's baseline WebAssembly compiler only. By default V8 also compiles ruff's hot
# functions with its optimising compiler on background threads, which costs several seconds of
# CPU a run and pays back only in runs far longer than a repository's check (ruff check of a
# generated repository: 4.6 s of CPU by default, 0.7 s so; the same output).
os.execvp(os.environ.get("ARPYPI_NODE", "node"), ["node", "--liftoff-only", str(CLI), *sys.argv[1:]])
