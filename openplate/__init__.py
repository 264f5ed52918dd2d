"""Openplate: accounts site, OAuth 2.0 authorisation server and mind-map library API."""

__version__ = "0.1.0"
__all__ = ["__version__"]
