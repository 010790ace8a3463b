"""Staff-only CRUD of notification subscriptions: /api/notifications/webhooks/ and /emails/."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.permissions import IsAdminUser

from api.notifications_serializers import EmailSubscriptionSerializer, WebhookSubscriptionSerializer
from notifications.models import EmailSubscription, WebhookSubscription

# Operators' configuration, not part of the dashboard's schema (docs/notifications.md documents it).
_hidden = extend_schema_view(**{action: extend_schema(exclude=True) for action in
                                ("list", "create", "retrieve", "update", "partial_update", "destroy")})


@_hidden
class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdminUser]
    serializer_class = WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.order_by("id")


@_hidden
class EmailSubscriptionViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdminUser]
    serializer_class = EmailSubscriptionSerializer
    queryset = EmailSubscription.objects.order_by("id")
