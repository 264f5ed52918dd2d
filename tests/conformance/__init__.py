"""The OpenID Foundation Basic OP and Config OP modules, as tests against a live Openplate."""
