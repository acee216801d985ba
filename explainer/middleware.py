import logging

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, QueryDict
from django.middleware.gzip import GZipMiddleware
from django.template import loader
from django.utils.cache import add_never_cache_headers

from .scheduling import batched
from .views import bad_request

logger = logging.getLogger(__name__)


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


class RefuseNulMiddleware:
    """A 400 for a request whose query string or form data holds NUL (``%00``). No reader
    or editor ever means one, and PostgreSQL cannot take it in text at all: it would turn
    a search, an admin filter or an autocomplete into a server error. Refused before any
    middleware or view can put it in a query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if holds_nul(request.GET) or (request.method == "POST" and holds_nul(request.POST)):
            return bad_request(request, "The address or the form sent holds a NUL character.")
        return self.get_response(request)


def holds_nul(data: QueryDict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in data.lists()
    )


class ResourcePolicyMiddleware:
    """The response headers Django's SecurityMiddleware does not set: ``Permissions-Policy``
    (no page here uses the camera, the microphone or the reader's location) and
    ``Cross-Origin-Resource-Policy`` (other sites may not embed our responses; the public
    API says otherwise itself). A response that set its own keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if settings.CROSS_ORIGIN_RESOURCE_POLICY:
            response.headers.setdefault(
                "Cross-Origin-Resource-Policy", settings.CROSS_ORIGIN_RESOURCE_POLICY
            )
        return response


class DatabaseUnavailableMiddleware:
    """A plain 503 page with ``Retry-After`` when the database cannot be reached or gave up
    on a query (its connect or statement timeout, settings.py): the reader is told to come
    back soon, and the load balancer sees an outage, not a bug. Other database errors (an
    integrity error, bad SQL) are bugs, and stay 500s."""

    RETRY_AFTER_SECONDS = 30

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable for %s: %s", request.path, exception)
        # Rendered without a request context: the session and the user need the database.
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        add_never_cache_headers(response)
        return response
