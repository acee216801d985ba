from django.contrib.sitemaps import Sitemap

from .models import Actor, Article, BackgroundNote


class StorySitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8

    def items(self):
        return Article.objects.published().only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class EntrySitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.5

    def __init__(self, model):
        self.model = model

    def items(self):
        return self.model.objects.published().only("slug", "updated_at").order_by("slug")

    def lastmod(self, item):
        return item.updated_at


SITEMAPS = {
    "stories": StorySitemap(),
    "actors": EntrySitemap(Actor),
    "notes": EntrySitemap(BackgroundNote),
}
