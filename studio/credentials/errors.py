"""The one error of content credentials, with what went wrong in attributes."""

from __future__ import annotations

from studio.errors import StudioError

_MESSAGES = {
    "certificate": "the content credentials certificate or key cannot be used",
    "signing": "the file could not be signed with content credentials",
    "unreadable": "this file's content credentials cannot be read",
    "not-an-image": "this file is not a PNG, JPEG or WebP image",
}


class CredentialsError(StudioError):
    """Signing or reading content credentials failed.

    The message never quotes a certificate or key: ``detail`` says what was wrong with them
    (a file name, a parse error), never their text.

    Attributes:
        reason: ``"certificate"``, ``"signing"``, ``"unreadable"`` or ``"not-an-image"``.
        detail: What exactly went wrong; part of the message.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        message = _MESSAGES[reason]
        super().__init__(f"{message}: {detail}" if detail else message)
        self.reason = reason
        self.detail = detail
