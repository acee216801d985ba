from django.http import HttpResponseNotFound, HttpResponseServerError
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from .models import Actor, Article, BackgroundNote, Mention

# "In this story" groups, in the order a reader meets them in the sidebar.
STORY_GROUPS = [
    ("person", "People"),
    ("organization", "Organizations"),
    ("country", "Countries"),
    ("place", "Places"),
    ("event", "Events"),
    ("process", "Talks and processes"),
    ("agreement", "Agreements"),
    ("topic", "Topics"),
]


def entries_in_story(article: Article) -> list[tuple[str, list]]:
    """Every actor and note the story mentions, grouped by kind, each group in reading order."""
    mentions = (
        Mention.objects.filter(article=article, is_suppressed=False, is_orphaned=False)
        .select_related("actor", "note")
        .order_by("start", "pk")
    )
    seen: set[str] = set()
    by_kind: dict[str, list] = {}
    for mention in mentions:
        entry = mention.entry
        if entry.entry_key in seen:
            continue
        seen.add(entry.entry_key)
        by_kind.setdefault(entry.kind, []).append(entry)
    return [(label, by_kind[kind]) for kind, label in STORY_GROUPS if kind in by_kind]


def stories_mentioning(entry_filter: dict):
    return (
        Article.objects.published()
        .filter(**entry_filter, mentions__is_suppressed=False)
        .distinct()
        .only("headline", "slug", "dek", "published_at", "outlet")
    )


@require_GET
def article_list(request):
    articles = Article.objects.published().only(
        "headline", "slug", "dek", "byline", "outlet", "published_at", "status"
    )
    return render(request, "explainer/article_list.html", {"articles": articles})


@require_GET
def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published(), slug=slug)
    context = {
        "article": article,
        "figures": list(article.figures.all()),
        "story_groups": entries_in_story(article),
    }
    return render(request, "explainer/article_detail.html", context)


@require_GET
@vary_on_headers("HX-Request")
def actor_detail(request, slug):
    actor = get_object_or_404(Actor, slug=slug)
    template_name = "explainer/actor_detail.html"
    if request.htmx:
        template_name += "#card"
    context = {
        "entry": actor,
        "aliases": [alias.text for alias in actor.aliases.all() if alias.text != actor.name],
        "sources": actor.sources.all(),
        "stories": stories_mentioning({"mentions__actor": actor}),
    }
    return render(request, template_name, context)


@require_GET
@vary_on_headers("HX-Request")
def note_detail(request, slug):
    note = get_object_or_404(BackgroundNote, slug=slug)
    template_name = "explainer/note_detail.html"
    if request.htmx:
        template_name += "#card"
    context = {
        "entry": note,
        "aliases": [alias.text for alias in note.aliases.all() if alias.text != note.title],
        "sources": note.sources.all(),
        "stories": stories_mentioning({"mentions__note": note}),
    }
    return render(request, template_name, context)


def page_not_found(request, exception):
    return HttpResponseNotFound(loader.render_to_string("404.html", request=request))


def server_error(request):
    # Rendered without a request context: the error may have come from anything upstream.
    return HttpResponseServerError(loader.render_to_string("500.html"))
