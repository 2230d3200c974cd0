"""Bearer-token authentication and roles for every service (issue 13)."""

from shared.auth.dependencies import allow, bearer, document_auth
from shared.auth.keys import AuthFailure
from shared.auth.principal import Principal, Role
from shared.auth.settings import AuthSettings
from shared.auth.tokens import ServiceToken, mint, parse_ttl
from shared.auth.verify import Verifier

__all__ = [
    "AuthFailure",
    "AuthSettings",
    "Principal",
    "Role",
    "ServiceToken",
    "Verifier",
    "allow",
    "bearer",
    "document_auth",
    "mint",
    "parse_ttl",
]
