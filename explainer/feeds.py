from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.text import Truncator

from .models import Article


class LatestStoriesFeed(Feed):
    """The latest published stories, as Atom."""

    feed_type = Atom1Feed
    title = "Explainer: latest stories"
    subtitle = "News stories with the context you need."
    link = reverse_lazy("article_list")
    feed_url = reverse_lazy("feed")

    def items(self):
        return Article.objects.published()[:30]

    def item_title(self, item):
        return item.headline

    def item_description(self, item):
        return item.dek or Truncator(item.body_text).words(60)

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.byline or None
