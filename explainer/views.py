import uuid
from functools import wraps

from django.contrib.admin.views.decorators import staff_member_required
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotFound,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from . import api, entries, frontpage, indexes, readership, snapshots, stories
from .addresses import absolute_url
from .models import Actor, Article, BackgroundNote
from .search import search as search_library
from .search import suggested_entries


def reader_cache(view):
    """Public reader pages: shared caches and browsers may keep them for five minutes, and
    a page and its htmx partial are different responses. A view that set its own policy
    (a staff-only response) keeps it."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, public=True, max_age=300)
        return response

    return vary_on_headers("HX-Request")(wrapped)


READER_METHODS = ["GET", "HEAD", "OPTIONS"]


def reader_methods(view):
    """GET and HEAD, as ``require_safe`` allows (monitors and link checkers ask with HEAD),
    and OPTIONS, answered at once with the methods allowed; anything else is a 405 that
    lists them. Outermost, so that OPTIONS does no work."""

    @require_http_methods(READER_METHODS)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse()
            response["Allow"] = ", ".join(READER_METHODS)
            return response
        return view(request, *args, **kwargs)

    return wrapped


@reader_methods
@reader_cache
def article_list(request):
    """The front page; ``?before=<slug>`` a page of the stories older than that one."""
    before = request.GET.get("before")
    page = frontpage.older_page(before) if before else frontpage.front_page()
    if page is None:
        raise Http404("No published story is at that place in the list.")
    context = {"page": page, "section": "stories", "og_image": site_image(request)}
    return render(request, "explainer/article_list.html", context)


def site_image(request) -> str:
    return absolute_url(request, static(stories.SITE_IMAGE))


def entry_list(request, model, *, title: str, intro: str, section: str):
    """A library index: ``?kind=`` one kind, ``?from=<name>`` from that name on."""
    try:
        kind, cursor = indexes.parse_request(
            model,
            kind=request.GET.get("kind"),
            start=request.GET.get("from"),
            at=request.GET.get("at"),
        )
    except indexes.BadIndexRequest as error:
        raise Http404(str(error)) from None
    index = indexes.library_index(model, kind=kind, cursor=cursor)
    context = {
        "index": index,
        "index_url": request.path,
        "title": title,
        "intro": intro,
        "section": section,
        "current_kind_label": dict(indexes.kinds_of(model)).get(kind, ""),
        "og_image": site_image(request),
    }
    return render(request, "explainer/entry_list.html", context)


@reader_methods
@reader_cache
def actor_list(request):
    return entry_list(
        request,
        Actor,
        title="Who’s who",
        intro="The people, organizations, countries and places in our stories, A–Z.",
        section="actors",
    )


@reader_methods
@reader_cache
def note_list(request):
    return entry_list(
        request,
        BackgroundNote,
        title="Background",
        intro="The events, talks, agreements and topics behind our stories, A–Z.",
        section="background",
    )


@reader_methods
@reader_cache
def article_detail(request, slug):
    page = stories.reader_page(request, slug)
    if page is None:
        raise Http404("No story is published at this address.")
    return HttpResponse(page.html, headers={"ETag": page.etag})


@reader_methods
@staff_member_required
@cache_control(private=True, no_store=True)
def article_preview(request, slug):
    """A story exactly as readers will see it, cards included, whatever its status, under a
    visible banner. Staff only; never cached; never indexed."""
    if not request.user.has_perm("explainer.view_article"):
        raise PermissionDenied
    article = get_object_or_404(Article, slug=slug)
    context = stories.story_context(
        article, absolute=lambda path: absolute_url(request, path), preview=True
    )
    response = render(request, "explainer/article_detail.html", {**context, "preview": True})
    response["X-Robots-Tag"] = "noindex"
    return response


@reader_methods
@cache_control(public=True, max_age=60 * 60 * 24)
def robots_txt(request):
    sitemap_url = absolute_url(request, reverse("django.contrib.sitemaps.views.sitemap"))
    return HttpResponse(
        f"User-agent: *\nDisallow: /admin/\nSitemap: {sitemap_url}\n", content_type="text/plain"
    )


@reader_methods
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
    if isinstance(caches["default"], DummyCache):
        return True  # caching switched off on purpose (DJANGO_CACHE_DISABLED)
    probe = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(probe, "1", timeout=5)
        alive = cache.get(probe) == "1"
        cache.delete(probe)
        return alive
    except Exception:  # any backend failure at all means "not healthy"
        return False


def entry_detail(request, model, slug: str, *, template_name: str):
    """An entry's page, or just its ``#card`` partial for an htmx request. Reached from a
    story, ``?as_of=YYYY-MM-DD`` says who or what it was on the story's date."""
    try:
        day = entries.parse_day(request.GET.get("as_of"))
    except entries.BadDate as error:
        return bad_request(request, str(error))
    staff = request.user.is_staff
    entry = entries.entry_or_404(model, slug, include_unpublished=staff)
    parts = snapshots.card_parts(entry, include_unpublished=staff)
    context = {
        "entry": entry,
        "as_of": entries.context_on(entry, day, parts),
        **parts,
    }
    if request.htmx:
        context["other_story_count"] = max(entry.story_count - 1, 0)
        context["summary_excerpt_html"] = entries.card_summary_html(entry, context["as_of"])
        response = render(request, template_name + "#card", context)
    else:
        context.update(snapshots.page_parts(entry))
        context["stories"] = entries.stories_mentioning(entry)
        response = render(request, template_name, context)
    shown = [entry, *parts["involved"], *parts["related"]]
    if not all(item.is_published for item in shown):
        # Only staff see unpublished entries (previews): never let a shared cache keep it.
        patch_cache_control(response, private=True, no_store=True)
    return response


@reader_methods
@reader_cache
def actor_detail(request, slug):
    return entry_detail(request, Actor, slug, template_name="explainer/actor_detail.html")


@reader_methods
@reader_cache
def note_detail(request, slug):
    return entry_detail(request, BackgroundNote, slug, template_name="explainer/note_detail.html")


@reader_methods
@cache_control(public=True, max_age=300)
def context_api(request, slug):
    """The card as data, for other sites and apps (see docs/api.md)."""
    try:
        day = entries.parse_day(request.GET.get("date"))
    except entries.BadDate as error:
        return api_response({"error": str(error)}, status=400)
    entry = entries.find_entry(slug)
    if entry is None:
        return api_response({"error": f"No context entry has the slug “{slug[:80]}”."}, 404)
    parts = snapshots.card_parts(entry)
    return api_response(api.entry_data(request, entry, parts=parts, day=day))


@csrf_exempt  # no cookies, no session: there is nothing of the reader's to forge
@require_POST
@never_cache
def card_read(request):
    """A reader kept a card open for a second or more (``readership.py``). cards.js sends
    the entry and the story without cookies; nothing else about the reader is kept."""
    entry_slug, story_slug = request.POST.get("entry", ""), request.POST.get("story", "")
    if not entry_slug or not story_slug:
        return HttpResponseBadRequest("Send the entry and the story.", content_type="text/plain")
    entry = entries.find_entry(entry_slug)
    story = Article.objects.published().filter(slug=story_slug).first()
    if (
        entry is None
        or story is None
        or not readership.card_is_in_story(entry=entry, article=story)
    ):
        return HttpResponseNotFound("No such card in that story.", content_type="text/plain")
    readership.record_card_read(entry=entry, article=story, day=timezone.localdate())
    return HttpResponse(status=204)


def api_response(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    # Public data, meant for other sites' pages and apps.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@reader_methods
@reader_cache
@vary_on_headers("HX-Target")
def search(request):
    results = search_library(request.GET.get("q", ""))
    template_name = "explainer/search.html"
    if request.htmx:
        # The header's box gets options for its pop-up; the page's own box, the results.
        template_name += "#live" if request.htmx.target == "live-results" else "#results"
    suggested = [] if results.query or request.htmx else suggested_entries()
    return render(request, template_name, {"results": results, "suggested_entries": suggested})


def bad_request(request, message: str):
    return HttpResponseBadRequest(
        loader.render_to_string("400.html", {"message": message}, request=request)
    )


def page_not_found(request, exception):
    return HttpResponseNotFound(loader.render_to_string("404.html", request=request))


def server_error(request):
    # Rendered without a request context: the error may have come from anything upstream.
    return HttpResponseServerError(loader.render_to_string("500.html"))
