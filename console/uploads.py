"""Upload handling: refuse a file past the configured size before it fills the disk."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class UploadTooLarge(Exception):
    pass


class SizeLimitedUploadHandler(FileUploadHandler):
    """Counts bytes as they stream in and stops the upload once AML_UPLOAD_MAX_BYTES is passed.

    It sits before TemporaryFileUploadHandler, which streams the accepted bytes to disk, so a
    file is never held whole in memory.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.received = 0
        self.limit = settings.AML_UPLOAD_MAX_BYTES

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        if content_length and content_length > self.limit + 64 * 1024:
            self._mark_too_large()
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self._mark_too_large()
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _mark_too_large(self) -> None:
        if self.request is not None:
            self.request.upload_too_large = True
