"""How the admin login's lockout (django-axes) tells clients apart."""
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    """The client's address exactly as the API's throttles take it, honouring API_NUM_PROXIES."""
    # With API_NUM_PROXIES=0 this is REMOTE_ADDR and X-Forwarded-For is ignored; otherwise
    # the address the nearest trusted proxy appended, which a client cannot forge.
    return BaseThrottle().get_ident(request)
