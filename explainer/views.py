import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseNotFound, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.views.decorators.cache import cache_control, never_cache
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


def reader_cache(view):
    """Public reader pages: shared caches and browsers may keep them for five minutes, and
    a page and its htmx partial are different responses."""
    return vary_on_headers("HX-Request")(cache_control(public=True, max_age=300)(view))


@require_GET
@reader_cache
def article_list(request):
    articles = Article.objects.published().only(
        "headline", "slug", "dek", "byline", "outlet", "published_at", "status"
    )
    return render(request, "explainer/article_list.html", {"articles": articles})


def story_parts(article: Article) -> dict:
    """The figures and the "In this story" list, cached under a key versioned by when the
    story was last rendered: editing the story, or any entry or alias it mentions,
    re-renders it and so retires the old key (no global flush)."""
    version = article.rendered_at.timestamp() if article.rendered_at else 0
    key = f"story-parts:v1:{article.pk}:{version}"
    parts = cache.get(key)
    if parts is None:
        parts = {
            "figures": list(article.figures.all()),
            "story_groups": entries_in_story(article),
        }
        cache.set(key, parts, timeout=60 * 60 * 24)
    return parts


@require_GET
@reader_cache
def article_detail(request, slug):
    article = get_object_or_404(Article.objects.published(), slug=slug)
    return render(
        request, "explainer/article_detail.html", {"article": article, **story_parts(article)}
    )


@require_GET
@cache_control(public=True, max_age=60 * 60 * 24)
def robots_txt(request):
    return HttpResponse("User-agent: *\nDisallow: /admin/\n", content_type="text/plain")


@require_GET
@never_cache
def healthz(request):
    """For load balancers: 200 when the database and the cache answer, else 503."""
    checks = {"database": database_is_up(), "cache": cache_is_up()}
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


def database_is_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def cache_is_up() -> bool:
    probe = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(probe, "1", timeout=5)
        alive = cache.get(probe) == "1"
        cache.delete(probe)
        return alive
    except Exception:  # any backend failure at all means "not healthy"
        return False


def entry_detail(request, entry, *, template_name: str, mention_filter: dict):
    """An entry's page, or just its ``#card`` partial for an htmx request (two queries:
    the entry and the count of stories that mention it)."""
    stories = stories_mentioning(mention_filter)
    if request.htmx:
        context = {"entry": entry, "other_story_count": max(stories.count() - 1, 0)}
        return render(request, template_name + "#card", context)
    context = {
        "entry": entry,
        "aliases": [alias.text for alias in entry.aliases.all() if alias.text != entry.label],
        "sources": entry.sources.all(),
        "stories": stories,
    }
    return render(request, template_name, context)


@require_GET
@reader_cache
def actor_detail(request, slug):
    actor = get_object_or_404(Actor, slug=slug)
    return entry_detail(
        request,
        actor,
        template_name="explainer/actor_detail.html",
        mention_filter={"mentions__actor": actor},
    )


@require_GET
@reader_cache
def note_detail(request, slug):
    note = get_object_or_404(BackgroundNote, slug=slug)
    return entry_detail(
        request,
        note,
        template_name="explainer/note_detail.html",
        mention_filter={"mentions__note": note},
    )


def page_not_found(request, exception):
    return HttpResponseNotFound(loader.render_to_string("404.html", request=request))


def server_error(request):
    # Rendered without a request context: the error may have come from anything upstream.
    return HttpResponseServerError(loader.render_to_string("500.html"))
