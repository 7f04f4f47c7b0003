"""Cloud Logging v2: entries.write, what a build that runs as a user-specified account writes with
logging CLOUD_LOGGING_ONLY (cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts).

Claims:
- entries.write checks logging.logEntries.create on the project of each logName
  (cloud.google.com/logging/docs/access-control).
"""

import re

from apis.core import ApiError, route


@route("POST", r"/v2/entries:write", "logging", "entries.write")
def entries_write(ctx, m):
    names = {(e.get("logName") or (ctx.body or {}).get("logName") or "") for e in (ctx.body or {}).get("entries") or [{}]}
    for log_name in sorted(names) or [""]:
        project = re.match(r"projects/([^/]+)/logs/", log_name)
        if not project:
            raise ApiError(400, "logName is required: projects/PROJECT/logs/LOG.")
        ctx.authorize("logging.entries.write", "projects/%s" % ctx.state.project_id_for(project.group(1)))
    return {}
