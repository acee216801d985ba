from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.middleware.gzip import GZipMiddleware

from .relinking import batched


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


class RelinkBatchMiddleware:
    """One relink job per request: an admin save touches a story or an entry and many of
    its rows, and each asks for relinks; they are gathered and handed to the workers once,
    when the response is ready (the admin's own transaction has committed by then)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with batched() as batch:
            response = self.get_response(request)
            if batch and request.user.is_authenticated:
                batch.user_id = request.user.pk
        return response
