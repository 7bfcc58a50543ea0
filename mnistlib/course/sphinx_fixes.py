"""A Sphinx extension for the book's build (``_config.yml``: ``extra_extensions``): each page loads each
script once, and the course's stylesheet (``static/course.css``: code wraps at the page's edge).

sphinx-thebe 0.3 adds its configuration script (``const THEBE_JS_URL = ...``) once per read of the
sources, and Jupyter Book reads them twice, so every page declared the constant twice and the browser logged
"Identifier 'THEBE_JS_URL' has already been declared" (sphinx-togglebutton's selector is doubled the same
way). Identical script entries are dropped here.
"""
from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).parent / "static"


def _script_key(script) -> tuple:
    """What a script tag loads or runs: its file and attributes (an inline script's body is one), whatever its
    priority."""
    return (str(getattr(script, "filename", script) or ""),  # an inline script's file is None or ""
            tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts, seen = context.get("script_files", []), set()
    unique = [s for s in scripts if not (_script_key(s) in seen or seen.add(_script_key(s)))]
    scripts[:] = unique


def add_static(app) -> None:
    app.config.html_static_path.append(str(STATIC))


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("builder-inited", add_static)
    app.add_css_file("course.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
