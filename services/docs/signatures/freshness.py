"""A signature needs a recent login (issue 6: signing "only by the person whose step it is,
with a fresh authentication").

The token says when the person last authenticated: OIDC's `auth_time`, which Keycloak keeps
unchanged through refreshes, so a web session kept alive all day still shows the morning's
login. Keycloak leaves `auth_time` out of tokens of the password grant, which only the
development clients allow (qlvb-dev-cli; never created in production, see terraform); such a
token was issued by the authentication itself, so its `iat` stands in. A login older than
`signing_fresh_auth_seconds` is refused with `reauthentication-required` (401): the web pages
then send the person to Keycloak with `prompt=login`, and back to the document."""

from __future__ import annotations

import time

from services.common.auth.principal import Principal
from services.docs.signing.errors import ReauthenticationRequired

# An authentication time ahead of our clock by more than this is not believed.
CLOCK_LEEWAY_SECONDS = 60


def authenticated_at(principal: Principal) -> int:
    """When the person last authenticated (seconds since the epoch); 0 when unknown."""
    return principal.auth_time if principal.auth_time is not None else principal.issued_at


def is_fresh(principal: Principal, max_age_seconds: float, now: float | None = None) -> bool:
    at = authenticated_at(principal)
    if at <= 0:
        return False
    age = (time.time() if now is None else now) - at
    return -CLOCK_LEEWAY_SECONDS <= age <= max_age_seconds


def require_fresh_authentication(principal: Principal, max_age_seconds: float) -> None:
    if not is_fresh(principal, max_age_seconds):
        if max_age_seconds >= 60:
            vi, en = f"{round(max_age_seconds / 60)} phút", f"{round(max_age_seconds / 60)} minutes"
        else:
            vi, en = f"{int(max_age_seconds)} giây", f"{int(max_age_seconds)} seconds"
        raise ReauthenticationRequired(
            f"Lần đăng nhập gần nhất của bạn đã quá {vi}. Để ký số, hãy đăng nhập lại rồi ký.",
            f"Your last login was more than {en} ago. Log in again to sign.",
        )
