"""Admin: subscriptions (the webhook secret write-only and masked) and the read-only delivery log."""
from django import forms
from django.contrib import admin

from notifications.models import Delivery, EmailSubscription, WebhookSubscription, http_url_validator
from notifications.severity import known_alert_types


def masked(secret: str) -> str:
    """The secret as the admin shows it: its last four characters at most, and only of a long one."""
    if not secret:
        return "(none)"
    return "••••" + secret[-4:] if len(secret) >= 16 else "••••"


class AlertTypesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[(t, t) for t in known_alert_types()], required=False,
                         widget=forms.CheckboxSelectMultiple, help_text="None checked: every type.", **kwargs)


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https", validators=[http_url_validator])
    alert_types = AlertTypesField()
    secret = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False, min_length=16,
                             help_text="At least 16 characters. Leave empty to keep the current secret.")

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "secret", "body_format", "alert_types", "min_severity", "active"]

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        if secret:
            return secret
        if not self.instance.pk:
            raise forms.ValidationError("A new webhook needs a secret.")
        return self.instance.secret


class EmailSubscriptionForm(forms.ModelForm):
    alert_types = AlertTypesField()
    recipients = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text="E-mail addresses, separated by commas or new lines.")

    class Meta:
        model = EmailSubscription
        fields = ["name", "recipients", "alert_types", "min_severity", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["recipients"] = "\n".join(self.instance.recipients)

    def clean_recipients(self):
        addresses = [item.strip() for item in self.cleaned_data["recipients"].replace(",", "\n").splitlines()]
        addresses = [address for address in addresses if address]
        field = forms.EmailField()
        for address in addresses:
            field.clean(address)
        if not addresses:
            raise forms.ValidationError("At least one address.")
        return addresses


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["name", "url", "body_format", "min_severity", "types", "secret_masked", "active"]
    list_filter = ["active", "body_format", "min_severity"]
    search_fields = ["name", "url"]

    @admin.display(description="secret")
    def secret_masked(self, subscription):
        return masked(subscription.secret)

    @admin.display(description="alert types")
    def types(self, subscription):
        return ", ".join(subscription.alert_types) or "all"


@admin.register(EmailSubscription)
class EmailSubscriptionAdmin(admin.ModelAdmin):
    form = EmailSubscriptionForm
    list_display = ["name", "addresses", "min_severity", "types", "active"]
    list_filter = ["active", "min_severity"]
    search_fields = ["name"]

    @admin.display(description="recipients")
    def addresses(self, subscription):
        return ", ".join(subscription.recipients)

    @admin.display(description="alert types")
    def types(self, subscription):
        return ", ".join(subscription.alert_types) or "all"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "alert", "event", "subscription_name", "status", "attempts", "last_status_code",
                    "next_attempt_at", "delivered_at"]
    list_filter = ["status", "event", ("webhook", admin.RelatedOnlyFieldListFilter),
                   ("email", admin.RelatedOnlyFieldListFilter), "created_at"]
    list_select_related = ["alert", "webhook", "email"]
    search_fields = ["=uuid", "=alert__device__device_id"]
    readonly_fields = [field.name for field in Delivery._meta.fields]
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="subscription")
    def subscription_name(self, delivery):
        return f"{'webhook' if delivery.webhook_id else 'e-mail'}: {delivery.subscription}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
