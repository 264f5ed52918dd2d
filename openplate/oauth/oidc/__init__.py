"""OpenID Connect on top of the OAuth core: signing keys, ID tokens, claims, discovery."""
