"""Reading the multipart form of ``POST /api/runs`` with each file's size capped while it streams in.

Starlette's own parser learns a file's size only once the whole body has been read; this one counts each file's
bytes as they arrive and stops reading at the first byte over ``MMAGENT_MAX_INPUT_MB``, so an upload over the
limit is refused (413) without waiting for, or storing, the rest of it.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.formparsers import MultiPartParser
from starlette.requests import Request

from agent.serve.security import safe_name

__all__ = ["FileTooLarge", "read_form"]


class FileTooLarge(Exception):
    """An uploaded file passed the per-file limit while it was being read."""

    def __init__(self, filename: str, limit: int) -> None:
        super().__init__(f"file {safe_name(filename or 'upload')!r} is over the limit of {limit} bytes "
                         "(MMAGENT_MAX_INPUT_MB); send a smaller file or raise the limit")


class _CappedParser(MultiPartParser):
    def __init__(self, request: Request, *, max_file_bytes: int, max_files: int, max_fields: int) -> None:
        super().__init__(request.headers, request.stream(), max_files=max_files, max_fields=max_fields)
        self.max_file_bytes = max_file_bytes
        self._file_bytes = 0

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._file_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        upload = self._current_part.file
        if upload is not None:
            self._file_bytes += end - start
            if self._file_bytes > self.max_file_bytes:
                raise FileTooLarge(upload.filename or "", self.max_file_bytes)
        super().on_part_data(data, start, end)


async def read_form(request: Request, *, max_file_bytes: int, max_files: int, max_fields: int) -> FormData:
    """The request's form; a multipart one with every file of at most ``max_file_bytes``. The caller closes it.

    Raises:
        FileTooLarge: A file passed the limit (the rest of the body is left unread).
        starlette.formparsers.MultiPartException: The body is not a valid form.
    """
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await request.form(max_files=max_files, max_fields=max_fields)  # a form with no files
    parser = _CappedParser(request, max_file_bytes=max_file_bytes, max_files=max_files, max_fields=max_fields)
    return await parser.parse()
