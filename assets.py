"""Static files and compression: versioned static URLs cached for a year, HTML/CSS/JS compressed.

A small port serves the site without a proxy in front, so the site itself compresses (Flask-Compress: Brotli or
gzip as the browser accepts) and tells browsers to keep static files: every ``url_for('static', ...)`` carries
``v=`` the file's content hash, so a changed file gets a new URL and the old one can be cached forever.
"""
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
compress = Compress()


@lru_cache(maxsize=256)
def _version(folder, filename):
    path = Path(folder, filename)
    # A missing file gets no version (its request answers 404 anyway).
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else None


def register(app):
    """Compress responses and version static URLs."""
    app.config.setdefault("COMPRESS_MIMETYPES", ["text/html", "text/css", "application/javascript",
                                                 "text/javascript", "application/json", "text/csv"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 1000)
    # Pages are made per request, so their compression is paid per request: Brotli at 1 takes a quarter of the
    # CPU of its default 4 for about 15% more bytes (the 16 KB application page: 0.06 ms for 5.2 KB against 0.25 ms
    # for 4.5 KB), and gzip at 1 (IE11; nginx's default level) half of level 6's. zstd keeps its default 3, as cheap.
    app.config.setdefault("COMPRESS_BR_LEVEL", 1)
    app.config.setdefault("COMPRESS_LEVEL", 1)
    # Pages carry no validator to evaluate (Flask-Compress would do it on each, a few percent of a small page);
    # static files are answered "not modified" below, against the ETag of the compressed copy the browser holds.
    app.config.setdefault("COMPRESS_EVALUATE_CONDITIONAL_REQUEST", False)

    @app.after_request  # registered before Flask-Compress's: it runs after it
    def static_not_modified(response):
        if request.endpoint == "static":
            response.make_conditional(request)
        return response

    compress.init_app(app)

    @app.url_defaults
    def static_version(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = _version(app.static_folder, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_static(response):
        if request.endpoint == "static" and request.args.get("v") and response.status_code == 200:
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
        return response
