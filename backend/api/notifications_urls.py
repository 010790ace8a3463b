from rest_framework.routers import SimpleRouter

from api.notifications_views import EmailSubscriptionViewSet, WebhookSubscriptionViewSet

router = SimpleRouter()
router.register("webhooks", WebhookSubscriptionViewSet, basename="notification-webhook")
router.register("emails", EmailSubscriptionViewSet, basename="notification-email")
urlpatterns = router.urls
