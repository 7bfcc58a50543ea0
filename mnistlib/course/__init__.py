"""The course layer: what the book's chapters call (figures, lessons, the committed study read back) and what
builds and publishes the book. ``__all__`` is what the command line may use; a test holds it to it."""

__all__ = ["build_book", "sync"]


def __getattr__(name: str):
    """Building the book loads Jupyter Book's helpers only when asked for."""
    if name == "build_book":
        from .book import build_book

        return build_book
    if name == "sync":
        from .launch import sync

        return sync
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
