"""The Django admin, reading on the primary: an operator must see their own edit at once."""
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from config.routers import primary_reads


class PrimaryReadsAdminSite(admin.AdminSite):
    """The default admin site, every view of which reads on the primary even under a replica mark."""

    def admin_view(self, view, cacheable=False):
        return super().admin_view(primary_reads()(view), cacheable)


class PrimaryReadsAdminConfig(AdminConfig):
    """django.contrib.admin with PrimaryReadsAdminSite as its default site."""

    default_site = "config.admin_site.PrimaryReadsAdminSite"
