"""Stand-in of the CloudEvents Python SDK 1.12.0 (cloudevents/sdk-python), the part functions-framework uses.

Test infrastructure only: functions-framework 3.10.2 requires cloudevents>=1.11.0,<=1.12.0
(its pyproject.toml, dependencies), which cannot be installed here. Each behaviour is a
claim with the file and line of cloudevents/sdk-python at tag 1.12.0 that says so; see
test/standins/README.md, "functions_framework/".
"""
