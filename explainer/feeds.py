from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.text import Truncator

from .addresses import site_url
from .models import Article
from .text import without_control_characters


class StoriesAtomFeed(Atom1Feed):
    """Atom that a control character in a story cannot break: XML 1.0 has no way to write
    one, so Django refuses the whole feed. Models no longer store them, but rows saved
    before they did may still hold one."""

    def add_item(self, **kwargs):
        super().add_item(
            **{
                name: without_control_characters(value, multiline=True)
                if isinstance(value, str)
                else value
                for name, value in kwargs.items()
            }
        )


class LatestStoriesFeed(Feed):
    """The latest published stories, as Atom."""

    feed_type = StoriesAtomFeed
    title = "Explainer: latest stories"
    subtitle = "News stories with the context you need."

    # Full URLs on the configured site origin; without one, Django adds the request's.
    def link(self):
        return site_url(reverse("article_list"))

    def feed_url(self):
        return site_url(reverse("feed"))

    def item_link(self, item):
        return site_url(item.get_absolute_url())

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
