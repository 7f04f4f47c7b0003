"""Test-only: lets Debian's twine 4.0.2 read Metadata-Version 2.3 and 2.4 (PEP 639).

Debian 12's pkginfo 1.8.2, which twine reads metadata with, knows versions up to 2.2 and
reads nothing from a later one ("Metadata is missing required fields: Name, Version").
pkginfo 1.12 (pkginfo/distribution.py, HEADER_ATTRS) reads 2.3 as 2.2 and 2.4 as 2.3 plus
License-Expression and License-File; the same two entries are added here. The pipelines run
twine 7.0.0 (constraints.txt), which reads 2.4 itself. test/support/python.ts puts this
folder on PYTHONPATH; nothing else changes.
"""

try:
    from pkginfo import distribution as _distribution
except ImportError:  # no pkginfo: nothing to backport
    pass
else:
    if "2.4" not in _distribution.HEADER_ATTRS:
        _v22 = _distribution.HEADER_ATTRS["2.2"]
        _distribution.HEADER_ATTRS["2.3"] = _v22
        _distribution.HEADER_ATTRS["2.4"] = (
            *_v22,
            ("License-Expression", "license_expression", False),
            ("License-File", "license_file", True),
        )
