"""The OAuth 2.0 protocol core: typed requests in, typed responses out; no web framework, no SQL."""
