"""Parses Cloud Build configs and trigger files with gcloud's own parser, offline.

Run with gcloud's bundled Python and its lib folders on PYTHONPATH (see gcloud.ts):
  python gcloud_parse.py build FILE... | trigger FILE...
Prints one JSON object per file: {"file", "ok", "error"}; exits 1 if any file fails.
"""
import json
import sys

from googlecloudsdk.api_lib.cloudbuild import cloudbuild_util, config


def main(kind, paths):
    messages = cloudbuild_util.GetMessagesModule()
    failed = False
    for path in paths:
        try:
            if kind == "build":
                # The same call `gcloud builds submit --config` makes; unknown fields are errors.
                config.LoadCloudbuildConfigFromPath(path, messages)
            else:
                cloudbuild_util.LoadMessageFromPath(
                    path, messages.BuildTrigger, "BuildTrigger", skip_camel_case=["substitutions"]
                )
            print(json.dumps({"file": path, "ok": True}))
        except Exception as error:  # any parser complaint is a failure of that file
            failed = True
            print(json.dumps({"file": path, "ok": False, "error": f"{type(error).__name__}: {error}"}))
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] not in ("build", "trigger"):
        sys.exit("usage: gcloud_parse.py build|trigger FILE...")
    sys.exit(main(sys.argv[1], sys.argv[2:]))
