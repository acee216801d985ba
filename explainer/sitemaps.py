from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Actor, Article, BackgroundNote


class SiteSitemap(Sitemap):
    """Full URLs on the configured site origin (``DJANGO_SITE_URL``), whatever Host the
    request gave; without one, on the request's own."""

    def get_protocol(self, protocol=None):
        if settings.SITE_URL:
            return urlsplit(settings.SITE_URL).scheme
        return super().get_protocol(protocol)

    def get_domain(self, site=None):
        if settings.SITE_URL:
            return urlsplit(settings.SITE_URL).netloc
        return super().get_domain(site)


class StorySitemap(SiteSitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return Article.objects.published().only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class EntrySitemap(SiteSitemap):
    changefreq = "weekly"
    priority = 0.5

    def __init__(self, model):
        self.model = model

    def items(self):
        return self.model.objects.published().only("slug", "updated_at").order_by("slug")

    def lastmod(self, item):
        return item.updated_at


class SectionSitemap(SiteSitemap):
    """The front page and the library's indexes."""

    changefreq = "daily"
    priority = 0.6

    def items(self):
        return ["article_list", "actor_list", "note_list"]

    def location(self, item):
        return reverse(item)


SITEMAPS = {
    "sections": SectionSitemap(),
    "stories": StorySitemap(),
    "actors": EntrySitemap(Actor),
    "notes": EntrySitemap(BackgroundNote),
}
