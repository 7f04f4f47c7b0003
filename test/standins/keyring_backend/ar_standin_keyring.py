"""A keyring backend standing in for keyrings.google-artifactregistry-auth.

Put the folder holding this file on PYTHONPATH and select it with

    PYTHON_KEYRING_BACKEND=ar_standin_keyring.StandinBackend
    AR_STANDIN_TOKEN_FILE=<file whose content is the access token>

Like Google's backend it answers for any service URL with the user
`oauth2accesstoken` and an access token (here read from the file on every call,
so a test can rotate it), and it cannot store or delete anything.
"""

import os

from keyring import backend, credentials, errors

USER = "oauth2accesstoken"


def _token():
    path = os.environ.get("AR_STANDIN_TOKEN_FILE")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


class StandinBackend(backend.KeyringBackend):
    """Returns oauth2accesstoken + the token of $AR_STANDIN_TOKEN_FILE."""

    priority = 9

    def get_credential(self, service, username):
        if username not in (None, "", USER):
            return None
        token = _token()
        if token is None:
            return None
        return credentials.SimpleCredential(USER, token)

    def get_password(self, service, username):
        if username not in (None, "", USER):
            return None
        return _token()

    def set_password(self, service, username, password):
        raise errors.PasswordSetError("the Artifact Registry stand-in keyring is read-only")

    def delete_password(self, service, username):
        raise errors.PasswordDeleteError("the Artifact Registry stand-in keyring is read-only")
