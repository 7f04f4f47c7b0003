"""Minimal pure-Python wheels (and sdists) for the stand-ins and their tests.

    make_wheel(directory, name, version, requires_python=">=3.8", tag="py3-none-any", build=None)

A wheel's file name is NAME-VERSION[-BUILD]-TAG.whl (PEP 427): BUILD, a build tag such as
"1", and TAG, its compatibility tag, are what pip ranks candidates of equal version by.
"""

import base64
import hashlib
import io
import os
import tarfile
import zipfile


def make_wheel(directory, name, version, requires_python=">=3.8", tag="py3-none-any", build=None):
    """Writes a minimal pure-Python wheel (and a matching sdist); returns their paths."""
    dist = name.replace("-", "_")
    module = dist.lower()
    files = {
        "%s/__init__.py" % module: ("VERSION = %r\n" % version).encode(),
        "%s-%s.dist-info/METADATA" % (dist, version): (
            "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: stand-in test package\n"
            "Requires-Python: %s\n" % (name, version, requires_python)
        ).encode(),
        "%s-%s.dist-info/WHEEL" % (dist, version): (
            "Wheel-Version: 1.0\nGenerator: standins\nRoot-Is-Purelib: true\nTag: %s\n%s"
            % (tag, "Build: %s\n" % build if build else "")
        ).encode(),
    }
    record_name = "%s-%s.dist-info/RECORD" % (dist, version)
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append("%s,," % record_name)
    files[record_name] = ("\n".join(record) + "\n").encode()
    os.makedirs(directory, exist_ok=True)
    wheel = os.path.join(directory, "%s-%s%s-%s.whl" % (dist, version, "-%s" % build if build else "", tag))
    with zipfile.ZipFile(wheel, "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
    sdist = os.path.join(directory, "%s-%s.tar.gz" % (dist.lower(), version))
    pkg_info = files["%s-%s.dist-info/METADATA" % (dist, version)]
    with tarfile.open(sdist, "w:gz") as t:
        info = tarfile.TarInfo("%s-%s/PKG-INFO" % (dist.lower(), version))
        info.size = len(pkg_info)
        t.addfile(info, io.BytesIO(pkg_info))
    return wheel, sdist
