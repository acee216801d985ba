from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.middleware.gzip import GZipMiddleware


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """The strict reader policy everywhere, and the admin's own policy under /admin/."""

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith("/admin/"):
            parts.config = settings.ADMIN_CONTENT_SECURITY_POLICY
        return parts


class ReaderGZipMiddleware(GZipMiddleware):
    """Compress reader pages. Not the admin: its pages carry CSRF tokens, and compressing
    secrets next to attacker-influenced text invites BREACH."""

    def process_response(self, request, response):
        if request.path_info.startswith("/admin/"):
            return response
        return super().process_response(request, response)
