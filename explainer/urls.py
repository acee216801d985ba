from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import path, register_converter
from django.views.decorators.cache import cache_control

from . import views
from .feeds import LatestStoriesFeed
from .sitemaps import SITEMAPS


class UnicodeSlugConverter:
    """Slugs made with ``slugify(allow_unicode=True)``: "kim-jong-un", "김정은-푸틴"."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UnicodeSlugConverter, "uslug")

urlpatterns = [
    path("", views.article_list, name="article_list"),
    path("stories/<uslug:slug>/", views.article_detail, name="article_detail"),
    path("stories/<uslug:slug>/preview/", views.article_preview, name="article_preview"),
    path("actors/", views.actor_list, name="actor_list"),
    path("actors/<uslug:slug>/", views.actor_detail, name="actor_detail"),
    path("background/", views.note_list, name="note_list"),
    path("background/<uslug:slug>/", views.note_detail, name="note_detail"),
    path("search/", views.search, name="search"),
    path("feed/", views.reader_methods(LatestStoriesFeed()), name="feed"),
    # Not kept on the server: an unpublished story or entry leaves it at once. Shared
    # caches may keep it five minutes, as they do reader pages.
    path(
        "sitemap.xml",
        views.reader_methods(cache_control(public=True, max_age=300)(sitemap)),
        {"sitemaps": SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("api/context/<uslug:slug>.json", views.context_api, name="context_api"),
    path("api/card-reads/", views.card_read, name="card_read"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    # Editors' uploads, in development; production serves them from object storage or a CDN.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "explainer.views.page_not_found"
handler500 = "explainer.views.server_error"
