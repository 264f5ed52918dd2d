"""RFC 9449 §4.3: checking a DPoP proof, the JWS a client signs over each request it makes.

``verify_proof`` makes every check of §4.3 that needs no storage, in the section's order; the
one that does (each ``jti`` once, §11.1) is ``check_proof``'s, through a ``ProofLedger`` (Redis
or a table: openplate/store/dpop_ledger.py). The server's nonce (§8, §9) is dpop_nonce.py's.
The proof's key is named by its RFC 7638 thumbprint (``jkt``), the value tokens are bound to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from openplate.oauth.errors import InvalidDPoPProof, UseDPoPNonce
from openplate.oauth.ports import ProofLedger

#: What ``dpop_signing_alg_values_supported`` advertises: asymmetric algorithms joserfc (or, for
#: Ed25519, ``cryptography``) verifies. "EdDSA" and its RFC 9864 name "Ed25519" are one thing.
DPOP_ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA", "Ed25519")
#: The key type (and curve) each algorithm needs: a proof's ``jwk`` of another type is refused.
_KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "ES256": ("EC", "P-256"), "RS256": ("RSA", None), "PS256": ("RSA", None),
    "EdDSA": ("OKP", "Ed25519"), "Ed25519": ("OKP", "Ed25519"),
}
#: JWK members of private (or symmetric) keys (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: A proof is a header value: an RSA-4096 key and a long URL fit in well under this.
MAX_PROOF_CHARS = 8192
MAX_JTI_CHARS = 256
MIN_RSA_BITS = 2048
_B64URL = re.compile(r"[A-Za-z0-9_\-]+", re.ASCII)
_JKT = re.compile(r"[A-Za-z0-9_\-]{43}", re.ASCII)


@dataclass(frozen=True, slots=True)
class ProofPolicy:
    """How old (``max_age``) or how far ahead of our clock (``future_skew``) a proof's ``iat``
    may be, in seconds (§11.1: "an acceptable window"), and the algorithms accepted."""

    max_age: int = 60
    future_skew: int = 5
    algorithms: tuple[str, ...] = DPOP_ALGORITHMS


@dataclass(frozen=True, slots=True)
class DPoPProof:
    """A proof that passed every check: its key's thumbprint and what §11.1 needs to remember."""

    jkt: str
    jti: str
    iat: int
    nonce: str | None = None


def is_thumbprint(value: str) -> bool:
    """The shape of a SHA-256 JWK thumbprint (43 base64url characters), for ``dpop_jkt``."""
    return _JKT.fullmatch(value) is not None


def access_token_hash(token: str) -> str:
    """§4.2 ``ath``: "the base64url encoding of the SHA-256 hash of the ASCII encoding of the
    associated access token's value"."""
    digest = hashlib.sha256(token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def one_proof(values: Sequence[str]) -> str | None:
    """The request's DPoP header, or None without one. §4.3 step 1: "There is not more than
    one DPoP HTTP request header field."; step 2: its value "is a single ... JWT"."""
    if not values:
        return None
    if len(values) > 1:
        raise InvalidDPoPProof("Send exactly one DPoP header.")
    value = values[0].strip()
    if not value or "," in value or " " in value:
        raise InvalidDPoPProof("The DPoP header must hold a single JWT.")
    return value


_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


def _percent(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def normalise_htu(url: str) -> str | None:
    """The URL as §4.3 compares it: "ignoring any query and fragment parts", after RFC 3986
    §6.2.2 syntax-based and §6.2.3 scheme-based normalisation (lower-case scheme and host, no
    default port, percent-encodings of unreserved characters decoded and the others in upper
    case, an empty path as "/"). None if it is no absolute http(s) URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = _PERCENT.sub(_percent, parts.path) or "/"
    return urlunsplit((scheme, host, path, "", ""))


def _b64decode(segment: str) -> bytes:
    if not segment or _B64URL.fullmatch(segment) is None:
        raise InvalidDPoPProof("The DPoP proof is not a well-formed JWT.")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise InvalidDPoPProof("The DPoP proof is not a well-formed JWT.") from None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidDPoPProof("The DPoP proof is not a well-formed JWT.") from None
    if not isinstance(value, dict):
        raise InvalidDPoPProof("The DPoP proof is not a well-formed JWT.")
    return value


PublicKey = RSAKey | ECKey | OKPKey

#: joserfc's default registry refuses headers over 512 bytes, and a proof's header carries its
#: public key (an RSA-4096 ``jwk`` is about 750 bytes); the whole proof is bounded above.
_REGISTRY = JWSRegistry(algorithms=["ES256", "RS256", "PS256"], strict_check_header=False)
_REGISTRY.max_header_length = MAX_PROOF_CHARS


def _public_key(jwk: object, alg: str) -> PublicKey:
    """The ``jwk`` header as a public key of the type ``alg`` needs. §4.3 step 7: "The jwk JOSE
    Header Parameter does not contain a private key"."""
    if not isinstance(jwk, dict):
        raise InvalidDPoPProof("The DPoP proof's jwk header must be a JSON object.")
    if PRIVATE_MEMBERS & jwk.keys():
        raise InvalidDPoPProof("The DPoP proof's jwk header holds a private key.")
    kty, crv = _KEY_TYPES[alg]
    if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
        raise InvalidDPoPProof(f"The DPoP proof's jwk is not a key for {alg}.")
    try:
        key: PublicKey
        if kty == "RSA":
            # Measured before joserfc sees it (it would only warn about a small key).
            modulus = jwk.get("n")
            if not isinstance(modulus, str) or (
                    int.from_bytes(_b64decode(modulus), "big").bit_length() < MIN_RSA_BITS):
                raise InvalidDPoPProof(f"RSA keys must have at least {MIN_RSA_BITS} bits.")
            key = RSAKey.import_key(jwk)
        elif kty == "EC":
            key = ECKey.import_key(jwk)
        else:
            key = OKPKey.import_key(jwk)
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidDPoPProof("The DPoP proof's jwk is not a valid public key.") from None
    if key.is_private:
        raise InvalidDPoPProof("The DPoP proof's jwk header holds a private key.")
    return key


def _signature_valid(proof: str, key: PublicKey, alg: str) -> bool:
    """§4.3 step 6: "The JWT signature verifies with the public key contained in the jwk JOSE
    Header Parameter"."""
    if alg in ("EdDSA", "Ed25519"):
        # joserfc warns that the name "EdDSA" is deprecated (RFC 9864), and warnings are errors
        # in the tests; the signature is plain Ed25519 (RFC 8037 §3.1), checked here directly.
        public = key.public_key
        head, body, sig = proof.split(".")
        if not isinstance(public, ed25519.Ed25519PublicKey):
            return False
        try:
            public.verify(_b64decode(sig), f"{head}.{body}".encode("ascii"))
        except InvalidSignature:
            return False
        return True
    try:
        jws.deserialize_compact(proof, key, algorithms=[alg], registry=_REGISTRY)
    except (JoseError, ValueError):
        return False
    return True


def _claim_str(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidDPoPProof(f"The DPoP proof has no '{name}' claim.")
    return value


def verify_proof(
    proof: str, *, method: str, url: str, now: int, policy: ProofPolicy,
    access_token: str | None = None, nonce_ok: Callable[[str | None], bool] | None = None,
) -> DPoPProof:
    """Every check of §4.3 but replay. ``url`` is where the request was sent as our configured
    public URL names it (never the Host header); ``access_token`` at a resource (``ath``);
    ``nonce_ok`` when the server requires its nonce (``UseDPoPNonce`` if it says no)."""
    # Step 2: "a single and well-formed JWT".
    if len(proof) > MAX_PROOF_CHARS:
        raise InvalidDPoPProof("The DPoP proof is too long.")
    if proof.count(".") != 2:
        raise InvalidDPoPProof("The DPoP proof is not a well-formed JWT.")
    head, body, sig = proof.split(".")
    header = _json_object(_b64decode(head))
    claims = _json_object(_b64decode(body))
    _b64decode(sig)
    # Step 4: "The typ JOSE Header Parameter has the value dpop+jwt."
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() != "dpop+jwt":
        raise InvalidDPoPProof("The DPoP proof's typ must be dpop+jwt.")
    # Step 5: "The alg JOSE Header Parameter indicates a registered asymmetric digital signature
    # algorithm ..., is not none, is supported by the application, and is acceptable per local
    # policy." (none and HS256 are not in the list: nothing else is even looked at.)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in policy.algorithms:
        raise InvalidDPoPProof("The DPoP proof's alg is not one of "
                               + " ".join(policy.algorithms) + ".")
    if "crit" in header:
        raise InvalidDPoPProof("The DPoP proof names critical header extensions.")
    key = _public_key(header.get("jwk"), alg)  # step 7
    if not _signature_valid(proof, key, alg):  # step 6
        raise InvalidDPoPProof("The DPoP proof's signature does not verify with its jwk.")
    # Step 3: "All required claims per Section 4.2 are contained in the JWT."
    jti, htm, htu = _claim_str(claims, "jti"), _claim_str(claims, "htm"), _claim_str(claims, "htu")
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise InvalidDPoPProof("The DPoP proof has no 'iat' claim.")
    if len(jti) > MAX_JTI_CHARS:
        raise InvalidDPoPProof("The DPoP proof's jti is too long.")
    # Step 8: "The htm claim matches the HTTP method of the current request."
    if htm != method.upper():
        raise InvalidDPoPProof("The DPoP proof's htm does not match the request's method.")
    # Step 9: "The htu claim matches the HTTP URI value for the HTTP request in which the JWT was
    # received, ignoring any query and fragment parts."
    expected = normalise_htu(url)
    if expected is None or normalise_htu(htu) != expected:
        raise InvalidDPoPProof("The DPoP proof's htu does not match the request's URL.")
    # Step 10: "If the server provided a nonce value to the client, the nonce claim matches the
    # server-provided nonce value."
    nonce = claims.get("nonce")
    if nonce is not None and not isinstance(nonce, str):
        raise InvalidDPoPProof("The DPoP proof's nonce must be a string.")
    if nonce_ok is not None and not nonce_ok(nonce):
        raise UseDPoPNonce("Sign the DPoP proof with the nonce in the DPoP-Nonce header.")
    # Step 11: "The creation time of the JWT ... is within an acceptable window".
    if iat < now - policy.max_age:
        raise InvalidDPoPProof("The DPoP proof is too old (iat); sign a new one.")
    if iat > now + policy.future_skew:
        raise InvalidDPoPProof("The DPoP proof was issued in the future (iat).")
    # Step 12: "ensure that the value of the ath claim equals the hash of that access token"
    # (the key binding is the caller's: it knows the token's jkt).
    if access_token is not None:
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(
                ath.encode("ascii", "replace"), access_token_hash(access_token).encode("ascii")):
            raise InvalidDPoPProof("The DPoP proof's ath does not match the access token.")
    return DPoPProof(jkt=key.thumbprint(), jti=jti, iat=int(iat), nonce=nonce)


def replay_name(proof: DPoPProof) -> str:
    """What the ledger remembers a proof by: its key and its ``jti`` (the caller digests it)."""
    return f"dpop\x00{proof.jkt}\x00{proof.jti}"


async def check_proof(
    proof: str, *, method: str, url: str, now: int, policy: ProofPolicy, ledger: ProofLedger,
    digest: Callable[[str], str], access_token: str | None = None,
    nonce_ok: Callable[[str | None], bool] | None = None,
) -> DPoPProof:
    """``verify_proof``, then §11.1: "the server MUST ... check that the jti value has not been
    used before" within the proof's lifetime, on any node (the ledger is shared)."""
    checked = verify_proof(proof, method=method, url=url, now=now, policy=policy,
                           access_token=access_token, nonce_ok=nonce_ok)
    expires_at = checked.iat + policy.max_age + 1
    if not await ledger.first_use(key=digest(replay_name(checked)), expires_at=expires_at,
                                  now=now):
        raise InvalidDPoPProof("This DPoP proof was used before; sign a new one for each "
                               "request.", detail="dpop proof replay")
    return checked
