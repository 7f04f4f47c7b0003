"""What Google's Python buildpack decides when it builds a function, as data and small functions.

Read in GoogleCloudPlatform/buildpacks (snapshot of 2026-08-22, commit 21f28de):
- cmd/python/functions_framework/lib/lib.go, BuildFn: when the function's requirements do not
  list functions-framework (python.PackagePresent), the buildpack appends its own
  converter/requirements.txt to GOOGLE_INTERNAL_REQUIREMENTS_FILES ("Adding
  functions-framework requirements.txt to the list of requirements files to install").
- pkg/python/dependencies.go, containsPackage: "listed" means a line matching
  (?m)^functions-framework\\b([^-]|$) or (?m)#egg=functions-framework$ (case-sensitive, so
  functions_framework or Functions-Framework do not count).
- cmd/python/pip/lib/lib.go, BuildFn: the files of that variable come first; "The workspace
  requirements.txt file should be installed last."
- pkg/python/python.go, PIPInstallRequirements: "Each requirements file is installed
  separately": one `pip install --requirement FILE ...` per file, with no index option, so the
  buildpack's file is read from pip's default index (PyPI) whatever --index-url the function's
  requirements.txt names; pkg/python/requirements.go (UVInstallRequirements) does the same with
  uv. ar.GeneratePythonConfig (pkg/ar/ar.go) writes a .netrc only, no pip configuration.
- converter/requirements.txt: CONVERTER_REQUIREMENTS below (last changed 2026-06-22).
- pkg/python/requirements.go and python.go: with GOOGLE_PYTHON_PACKAGE_MANAGER unset,
  isUVDefaultPackageManagerForRequirements picks uv for Python >= 3.14 and pip below.
"""

import re

# converter/requirements.txt: (name, version, environment marker or None).
CONVERTER_REQUIREMENTS = (
    ("anyio", "4.5.2", None),
    ("blinker", "1.8.2", None),
    ("click", "8.1.8", None),
    ("cloudevents", "1.11.0", None),
    ("deprecation", "2.1.0", None),
    ("exceptiongroup", "1.3.0", None),
    ("Flask", "3.0.3", None),
    ("functions-framework", "3.10.2", None),
    ("gunicorn", "23.0.0", None),
    ("h11", "0.16.0", None),
    ("idna", "3.15", None),
    ("importlib_metadata", "8.5.0", None),
    ("itsdangerous", "2.2.0", None),
    ("Jinja2", "3.1.6", None),
    ("MarkupSafe", "2.1.5", None),
    ("packaging", "25.0", None),
    ("sniffio", "1.3.1", None),
    ("starlette", "0.44.0", "python_version == '3.8'"),
    ("starlette", "0.49.1", "python_version == '3.9'"),
    ("starlette", "1.3.1", "python_version >= '3.10'"),
    ("typing_extensions", "4.13.2", None),
    ("uvicorn", "0.33.0", None),
    ("uvicorn-worker", "0.2.0", None),
    ("watchdog", "4.0.2", None),
    ("Werkzeug", "3.0.6", None),
    ("zipp", "3.20.2", None),
)

# functions-framework on PyPI today (the environment's package list, 2026-06).
FUNCTIONS_FRAMEWORK_ON_PYPI = "3.10.2"

_LISTED = (re.compile(r"(?m)^functions-framework\b([^-]|$)"), re.compile(r"(?m)#egg=functions-framework$"))


def lists_functions_framework(requirements_text):
    """python.PackagePresent for a requirements.txt: does it list functions-framework?"""
    return any(pattern.search(requirements_text or "") for pattern in _LISTED)


def converter_requirements_text():
    """The buildpack's converter/requirements.txt."""
    return "".join("%s==%s%s\n" % (name, version, "; %s" % marker if marker else "")
                   for name, version, marker in CONVERTER_REQUIREMENTS)


def python_installer(build_config):
    """The installer the buildpack picks for a build config (buildConfig of a function)."""
    chosen = ((build_config or {}).get("environmentVariables") or {}).get("GOOGLE_PYTHON_PACKAGE_MANAGER")
    if chosen:
        return chosen.lower()
    match = re.fullmatch(r"python(\d)(\d+)", (build_config or {}).get("runtime") or "")
    return "uv" if match and (int(match.group(1)), int(match.group(2))) >= (3, 14) else "pip"


def public_wheels():
    """(name, version) of every wheel the stand-in PyPI publishes so that a function build
    resolves offline: the converter's pins and functions-framework as PyPI has it."""
    wheels = {(name, version) for name, version, _ in CONVERTER_REQUIREMENTS}
    wheels.add(("functions-framework", FUNCTIONS_FRAMEWORK_ON_PYPI))
    return sorted(wheels)
