import os
import sys
from pathlib import Path

CLI = Path(__file__).resolve().parent.parent.parent / "ruff.mjs"
os.execvp(os.environ.get("ARPYPI_NODE", "node"), ["node", str(CLI), *sys.argv[1:]])
