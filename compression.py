"""Gzip for text answers, in one place (issue 16: the comments embed's bytes are measured
gzipped, and Tribune served everything uncompressed). The standard library's gzip, no extra
dependency; a reverse proxy that compresses may do it instead (it sees Content-Encoding set).

Compressed: 200 answers of a text type (HTML, CSS, JS, JSON, SVG) of at least MIN_SIZE bytes,
to clients that accept gzip, outside /api/ (the pages, the embeds and the static files: what a
browser loads; API answers are small and ETag-cached, and some API clients announce gzip
without decoding it, e.g. the WSGI transport of the schemathesis suite). A strong ETag is made
weak (the bytes differ from the identity encoding; If-None-Match compares weakly); outside
/static/ an answer with a strong tag is left as it is (its view may compare tags itself)."""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

MIN_SIZE = 1024
LEVEL = 6
TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/problem+json",
    "image/svg+xml",
)


def _compressible(response: Response) -> bool:
    if response.status_code != 200 or "Content-Encoding" in response.headers:
        return False
    if request.path.startswith("/api/"):
        return False
    if not response.mimetype or not response.mimetype.startswith(TEXT_TYPES):
        return False
    if response.is_streamed and not response.direct_passthrough:
        return False
    etag, weak = response.get_etag()
    return etag is None or weak or request.path.startswith("/static/")


def compress_response(response: Response) -> Response:
    """Gzip the answer when the client accepts it and it is worth it (see the module doc)."""
    response.vary.add("Accept-Encoding")
    if not request.accept_encodings["gzip"] or not _compressible(response):
        return response
    response.direct_passthrough = False  # static files: read the file into the body
    data = response.get_data()
    if len(data) < MIN_SIZE:
        return response
    etag, weak = response.get_etag()
    response.set_data(gzip.compress(data, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    if etag is not None and not weak:
        response.set_etag(etag, weak=True)
    return response


def register_compression(app: Flask) -> None:
    """Compress text answers after every other after_request hook has run."""
    # after_request hooks run in reverse order of registration: registered first, runs last.
    app.after_request_funcs.setdefault(None, []).insert(0, compress_response)
