"""Error answers in the shapes the real services use (and the SDK parses)."""

from __future__ import annotations

import uuid
from typing import Any


class ApiError(Exception):
    """An error answer: IMS `{"error": {"code", "message"}}`, or gateway/IAM `{"error_code", "error_msg"}`."""

    def __init__(self, status: int, code: str, message: str, style: str = "ims") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.style = style

    def body(self) -> dict[str, Any]:
        if self.style == "ims":
            return {"error": {"code": self.code, "message": self.message}}
        return {"error_code": self.code, "error_msg": self.message, "request_id": uuid.uuid4().hex}
