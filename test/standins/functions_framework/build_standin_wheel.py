"""Writes this stand-in as an installable wheel, functions_framework and cloudevents in it.

    python3 test/standins/functions_framework/build_standin_wheel.py OUTDIR   # prints the wheel's path

Named functions-framework 3.10.2, the version every generated requirements.in pins, so that
pip installs it from a stand-in index where the real wheel would come from PyPI; its
console script is functions-framework (pyproject.toml lines 41-45 of the real one). It declares
no dependencies: Flask comes from the interpreter running it (Debian's python3-flask).
"""

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME, VERSION = "functions_framework", "3.10.2"
INFO = f"{NAME}-{VERSION}.dist-info"


def main(outdir: str) -> None:
    print(build(outdir))


def build(outdir: str) -> Path:
    """The wheel, written into OUTDIR; its path."""
    files = {
        path.relative_to(HERE).as_posix(): path.read_bytes()
        for package in ("functions_framework", "cloudevents")
        for path in sorted((HERE / package).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    files[f"{INFO}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: functions-framework\nVersion: {VERSION}\n"
        "Summary: stand-in of functions-framework (test/standins/functions_framework)\n"
    ).encode()
    files[f"{INFO}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: standins\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{INFO}/entry_points.txt"] = b"[console_scripts]\nfunctions-framework = functions_framework._cli:_cli\n"
    record = [
        f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for path, data in files.items()
    ]
    files[f"{INFO}/RECORD"] = ("\n".join([*record, f"{INFO}/RECORD,,"]) + "\n").encode()
    wheel = Path(outdir) / f"{NAME}-{VERSION}-py3-none-any.whl"
    wheel.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(zipfile.ZipInfo(path, (1980, 1, 1, 0, 0, 0)), data)
    return wheel


if __name__ == "__main__":
    main(sys.argv[1])
