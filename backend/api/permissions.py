"""Who may do what through the API."""
from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated)


class ReadOnlyOrStaff(BasePermission):
    """Reads are open (or need a signed-in user with API_READ_AUTH); writes need a staff user."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return not settings.API_READ_AUTH or _signed_in(request.user)
        return _signed_in(request.user) and request.user.is_staff


class PublicReadOrStaff(BasePermission):
    """Reads are open even with API_READ_AUTH (health probes); writes need a staff user."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return _signed_in(request.user) and request.user.is_staff
