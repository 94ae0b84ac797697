"""A visit's photo: the shared evidence-photo check (core/photos.py) with the visits' limits."""

from gridgov.core.photos import MAX_BYTES, MAX_PIXELS, CheckedPhoto, check_photo

__all__ = ["MAX_BYTES", "MAX_PIXELS", "CheckedPhoto", "check_photo"]
