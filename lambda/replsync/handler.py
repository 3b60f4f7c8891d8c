"""Lambda entry point (handler string ``handler.handler``)."""

from replsync.app import handler

__all__ = ["handler"]
