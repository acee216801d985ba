import html
import re
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from . import relinking, scheduling
from .dashboard import newsroom_dashboard
from .descriptions import description_contradictions
from .editing import (
    EditConflictForm,
    RevisionAdmin,
    stories_mentioning_for_delete,
)
from .linking import normalize_alias, parse_html
from .models import (
    Actor,
    Alias,
    Article,
    BackgroundNote,
    Figure,
    Mention,
    NoteUpdate,
    PendingRelink,
    RelinkJob,
    Role,
    Source,
)
from .review import choose_mention_view, story_review
from .rich_text import RichTextAdminMixin
from .sanitize import TooDeeplyNested, sanitize_body_html
from .services import article_name_suggestions, entry_ensure_name_alias

admin.site.site_header = "Explainer newsroom"
admin.site.site_title = "Explainer newsroom"
admin.site.index_title = "Stories and context"


def newsroom_index(request, extra_context=None, *, stock_index=admin.site.index):
    """The admin's first screen: the newsroom dashboard (``dashboard.py``) above the model
    list (templates/admin/index.html)."""
    # Stories and entries first; the log-in and lock-out tables (auth, axes) below.
    apps = sorted(admin.site.get_app_list(request), key=lambda app: app["app_label"] != "explainer")
    context = {
        "dashboard": newsroom_dashboard(user=request.user),
        "app_list": apps,
        **(extra_context or {}),
    }
    return stock_index(request, context)


admin.site.index = newsroom_index


# Editors paste addresses without a scheme; read them as https (Django 6's default).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


# An inline shows at most this many rows, so that a change form stays far below Django's
# 1,000-field limit (DATA_UPLOAD_MAX_NUMBER_FIELDS) and opens in a moment however many
# aliases an entry or mentions a story has; the rest are in their own admin list.
INLINE_ROWS_SHOWN = 100


class LabelledFormSet(forms.BaseInlineFormSet):
    """A tabular inline's inputs have a column heading but no label of their own: each gets
    its field's name as its accessible name (``aria-label``), the delete box "Delete"."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            label = "Delete" if name == "DELETE" else capfirst(field.label or name)
            # A related field's own widget, inside the add/change links' wrapper.
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs.setdefault("aria-label", label)


class LabelledAutocompleteSelect(AutocompleteSelect):
    """An autocomplete box whose empty state names what it is for (select2 shows the
    placeholder, which is also the box's accessible name)."""

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["data-placeholder"] = f"Choose {self.field.verbose_name}"
        return attrs


class LabelledAutocompleteInline:
    class Media:
        js = ["explainer/admin-autocomplete.js"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request) and "widget" not in kwargs:
            kwargs["widget"] = LabelledAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class FirstRowsFormSet(LabelledFormSet):
    """An inline's first ``INLINE_ROWS_SHOWN`` rows, in a stable order."""

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            rows = super().get_queryset()
            shown = list(rows.values_list("pk", flat=True)[:INLINE_ROWS_SHOWN])
            self._queryset = rows.filter(pk__in=shown)
        return self._queryset


class FirstRowsInline:
    """Tells the editor when an inline shows only the first rows, with a link to them all
    in the rows' own admin list, filtered by the parent."""

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None and request.method == "GET":
            total = self.get_queryset(request).filter(**{formset.fk.name: obj}).count()
            if total > INLINE_ROWS_SHOWN:
                opts = self.model._meta
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
                messages.info(
                    request,
                    format_html(
                        "Only the first {} of its {} {} are shown below. "
                        '<a href="{}?{}={}">See and edit them all</a>.',
                        INLINE_ROWS_SHOWN,
                        f"{total:,}",
                        opts.verbose_name_plural,
                        url,
                        f"{formset.fk.name}__id__exact",
                        obj.pk,
                    ),
                )
        return formset


class AliasFormSet(FirstRowsFormSet):
    def clean(self):
        super().clean()
        seen: dict[str, str] = {}
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            text = form.cleaned_data.get("text") or ""
            key = normalize_alias(text)
            if key in seen:
                form.add_error("text", f"“{text}” repeats “{seen[key]}” above.")
            seen[key] = text


class AliasInline(FirstRowsInline, admin.TabularInline):
    model = Alias
    formset = AliasFormSet
    fields = ["text", "case_sensitive", "is_short_form"]
    extra = 1


class SourceInline(admin.TabularInline):
    model = Source
    formset = LabelledFormSet
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    fields = ["label", "title", "published_on", "url", "position"]
    extra = 1


class RoleFormSet(forms.BaseInlineFormSet):
    """Refuses roles that the actor's one-line description contradicts ("foreign minister
    since 2016" beside a role that ended in 2020): a card would show both."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        roles = [
            form.instance.held
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        problems = description_contradictions(description=self.instance.description, roles=roles)
        if problems:
            raise forms.ValidationError(
                [*problems, "Change the description or the roles so that they agree."]
            )


class RoleInline(admin.StackedInline):
    model = Role
    formset = RoleFormSet
    fields = [
        ("title", "organization"),
        ("starts_on", "ends_on", "succeeded_by"),
        ("title_forms", "holder_phrases"),
    ]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3})}}
    extra = 1
    verbose_name_plural = "Roles over time (cards show the one held on a story's date)"


class NoteUpdateInline(admin.TabularInline):
    model = NoteUpdate
    formset = LabelledFormSet
    fields = ["happened_on", "text"]
    extra = 1
    verbose_name_plural = "Dated updates (timelines, and “Since then” on cards)"


HTMX_MEDIA = ["django_htmx/htmx-2.min.js"]


def render_job_progress(job: RelinkJob | None) -> str:
    if job is None:
        return "No relinking asked for yet."
    return render_to_string(
        "admin/explainer/_relink_progress.html", {"progress": scheduling.job_progress(job)}
    )


def linked_slug_error(error: ValidationError) -> ValidationError:
    """An address already taken, with a link to the entry that has it."""
    owner = error.params["owner"]
    url = reverse(f"admin:explainer_{owner._meta.model_name}_change", args=[owner.pk])
    message = format_html(
        '“<a href="{}">{}</a>” already uses the address {}.', url, owner, error.params["slug"]
    )
    return ValidationError(message, code=error.code)


class EntryForm(EditConflictForm):
    def full_clean(self):
        super().full_clean()
        errors = self._errors.get("slug") if self._errors else None
        if errors:
            self._errors["slug"] = self.error_class(
                [
                    linked_slug_error(error) if error.code == "slug_taken" else error
                    for error in errors.as_data()
                ],
                renderer=self.renderer,
            )


class EntryAdmin(RichTextAdminMixin, RevisionAdmin):
    form = EntryForm
    rich_text_fields = {"summary": "summary"}
    list_filter = ["kind", "is_published"]
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    delete_confirmation_template = "admin/explainer/delete_entry_confirmation.html"
    inlines = [AliasInline, SourceInline]
    list_per_page = 50

    def get_queryset(self, request):
        # One subquery per count: joining both the mentions and the aliases multiplied them
        # (an actor with 5,000 aliases in 10,000 stories is 50 million rows to count).
        field = "actor" if self.model is Actor else "note"
        mine = {field: OuterRef("pk")}
        stories = (
            Mention.objects.filter(**mine, is_suppressed=False)
            .order_by()
            .values(field)
            .annotate(count=Count("article", distinct=True))
            .values("count")
        )
        aliases = Alias.objects.filter(**mine).order_by().values(field).annotate(count=Count("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                num_stories=Coalesce(Subquery(stories), 0),
                num_aliases=Coalesce(Subquery(aliases.values("count")), 0),
            )
        )

    @admin.display(description="Stories", ordering="num_stories")
    def story_count(self, obj):
        return obj.num_stories

    @admin.display(description="Aliases", ordering="num_aliases")
    def alias_count(self, obj):
        return obj.num_aliases

    def save_model(self, request, obj, form, change):
        obj.last_edited_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        entry_ensure_name_alias(form.instance)

    class Media:
        js = HTMX_MEDIA
        css = {"all": ["explainer/admin.css"]}

    @admin.display(description="Relinking")
    def relink_progress(self, obj):
        if obj is None or not obj.pk:
            return "Stories are relinked in the background once you save."
        return render_job_progress(scheduling.latest_job(**{obj.entry_field: obj}))

    @admin.display(description="Last edited", ordering="updated_at")
    def last_edited(self, obj):
        who = obj.last_edited_by.get_username() if obj.last_edited_by else "import"
        return f"{localize(timezone.localtime(obj.updated_at))} by {who}"

    def render_delete_form(self, request, context):
        context["mentioning_stories"] = stories_mentioning_for_delete(context["object"])
        return super().render_delete_form(request, context)


@admin.register(Actor)
class ActorAdmin(EntryAdmin):
    list_display = ["name", "kind", "description", "alias_count", "story_count", "last_edited"]
    list_select_related = ["last_edited_by"]
    readonly_fields = ["last_edited", "relink_progress"]
    search_fields = ["name", "description", "aliases__text"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AliasInline, RoleInline, SourceInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "kind", "description", "summary", "loaded_version"]}),
        ("Image", {"fields": ["image", "image_alt", "image_credit"]}),
        ("Links", {"fields": ["wikidata_id"]}),
        ("Accountability", {"fields": ["is_published", "reviewed_on", "last_edited"]}),
        ("Stories", {"fields": ["relink_progress"]}),
    ]


@admin.register(BackgroundNote)
class BackgroundNoteAdmin(EntryAdmin):
    list_display = ["title", "kind", "starts_on", "ends_on", "alias_count", "last_edited"]
    list_select_related = ["last_edited_by"]
    readonly_fields = ["last_edited", "relink_progress"]
    search_fields = ["title", "description", "aliases__text"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [AliasInline, NoteUpdateInline, SourceInline]
    autocomplete_fields = ["actors", "related_notes"]
    rich_text_fields = {"summary": "summary", "body": "body"}
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "kind",
                    "description",
                    "summary",
                    "body",
                    "loaded_version",
                ]
            },
        ),
        ("Dates", {"fields": ["starts_on", "ends_on"]}),
        ("Related", {"fields": ["actors", "related_notes"]}),
        ("Accountability", {"fields": ["is_published", "reviewed_on", "last_edited"]}),
        ("Stories", {"fields": ["relink_progress"]}),
    ]


class FigureInline(admin.StackedInline):
    model = Figure
    fields = ["position", "image", "alt_text", "caption", "credit"]
    extra = 0


class MentionForm(forms.ModelForm):
    class Meta:
        model = Mention
        fields = ["actor", "note", "quote", "is_suppressed"]

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("actor")) == bool(cleaned.get("note")):
            raise ValidationError("Choose either an actor or a background note, not both.")
        return cleaned

    def save(self, commit=True):
        # An editor who re-points or re-quotes a found mention takes it over: relinking
        # will then keep it as the editor placed it.
        if {"actor", "note", "quote"} & set(self.changed_data):
            self.instance.origin = Mention.Origin.EDITOR
        return super().save(commit)


class MentionFormSet(FirstRowsFormSet):
    def clean(self):
        super().clean()
        try:
            parsed = parse_html(sanitize_body_html(self.instance.body or ""))
        except TooDeeplyNested:
            return  # the body's own error says why; no mention can be checked against it
        text = parsed.text
        for form in self.forms:
            # Only what the editor placed or changed now: a copy edit that removes the words
            # of an existing mention is fine (relinking drops or orphans it).
            if not form.cleaned_data or form.cleaned_data.get("DELETE") or not form.has_changed():
                continue
            quote = form.cleaned_data.get("quote") or ""
            if not quote:
                continue
            if quote not in text:
                form.add_error("quote", f"“{quote}” does not occur in the story's text.")
            elif not any(
                parsed.is_linkable_span(start, start + len(quote))
                for start in occurrences(text, quote)
            ):
                form.add_error(
                    "quote",
                    f"“{quote}” only occurs across formatting or inside an existing link; "
                    "quote words that sit together in plain text.",
                )


def occurrences(text: str, quote: str):
    position = text.find(quote)
    while position != -1:
        yield position
        position = text.find(quote, position + 1)


class MentionInline(LabelledAutocompleteInline, FirstRowsInline, admin.TabularInline):
    model = Mention
    form = MentionForm
    formset = MentionFormSet
    fields = [
        "quote",
        "actor",
        "note",
        "is_suppressed",
        "origin",
        "is_linked",
        "is_orphaned",
    ]
    # No character offset: editors place mentions by their words (and it kept the table,
    # and its Delete boxes, wider than a 1,280 px window).
    readonly_fields = ["origin", "is_linked", "is_orphaned"]
    autocomplete_fields = ["actor", "note"]
    extra = 1
    verbose_name = "linked mention"
    verbose_name_plural = (
        "Linked mentions (found automatically or placed by an editor; "
        "tick “don't link here” to suppress one)"
    )

    # The rows shown: repeats that are not linked would only bury the links an editor
    # reviews.
    rows_shown = (
        Q(is_linked=True)
        | Q(is_suppressed=True)
        | Q(is_orphaned=True)
        | Q(origin=Mention.Origin.EDITOR)
    )

    def get_queryset(self, request):
        return super().get_queryset(request).filter(self.rows_shown).select_related("actor", "note")


@admin.register(Article)
class ArticleAdmin(RichTextAdminMixin, RevisionAdmin):
    form = EditConflictForm
    rich_text_fields = {"body": "body"}
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ["headline", "state", "published_at", "outlet", "entry_count"]
    list_filter = ["status", "outlet"]
    search_fields = ["headline", "byline", "body_text"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["headline"]}
    inlines = [FigureInline, MentionInline]
    fieldsets = [
        (None, {"fields": ["headline", "slug", "dek", "byline", "dateline", "loaded_version"]}),
        ("Publication", {"fields": ["status", "published_at", "outlet", "original_url"]}),
        ("Text", {"fields": ["body", "link_every_mention"]}),
        ("Mention review", {"fields": ["relink_status", "mention_review"]}),
    ]
    readonly_fields = ["relink_status", "mention_review"]

    class Media:
        js = HTMX_MEDIA
        css = {"all": ["explainer/admin.css"]}

    @admin.display(description="Links")
    def relink_status(self, obj):
        if obj is None or not obj.pk:
            return "The story is linked in the background once you save."
        return render_story_relink(obj)

    def get_urls(self):
        return [
            path(
                "<int:object_id>/relink-status/",
                self.admin_site.admin_view(self.relink_status_view),
                name="explainer_article_relink_status",
            ),
            path(
                "<int:object_id>/choose-mention/",
                self.admin_site.admin_view(partial(choose_mention_view, self)),
                name="explainer_article_choose_mention",
            ),
            *super().get_urls(),
        ]

    def relink_status_view(self, request, object_id):
        article = get_object_or_404(Article, pk=object_id)
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        return HttpResponse(render_story_relink(article))

    @admin.display(description="As readers see it")
    def mention_review(self, obj):
        """The linked story with its mentions highlighted, the mentions that lost their
        words in an edit, and names no alias covers yet, each one click from an entry."""
        if obj is None or not obj.pk:
            return "Save the story to see its mentions."
        orphans = obj.mentions.filter(is_orphaned=True).select_related("actor", "note")
        suggestions = article_name_suggestions(obj)[:25]
        review = story_review(obj)
        highlighted = highlighted_entries(obj.linked_body_html, review)
        return render_to_string(
            "admin/explainer/mention_review.html",
            {
                # Our renderer's output over sanitized HTML: the one thing marked safe.
                "linked_body": mark_safe(review_body(obj.linked_body_html, highlighted)),
                "highlighted": highlighted.items(),
                "orphans": orphans,
                "suggestions": suggestions,
                "review": review,
            },
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                num_entries=Count(
                    "mentions__actor", filter=Q(mentions__is_suppressed=False), distinct=True
                )
                + Count("mentions__note", filter=Q(mentions__is_suppressed=False), distinct=True)
            )
        )

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if getattr(request.resolver_match, "url_name", None) != "autocomplete":
            return queryset, may_have_duplicates
        # The autocomplete pages its results, and the entry count's GROUP BY drops the
        # model's default ordering.
        queryset = queryset.order_by(*self.opts.ordering)
        # It names the field it fills (the view has checked that the field exists). For a
        # mention's or a figure's story (a PartAdmin's parent field), offer only what that
        # form accepts from this user: without the publish permission, no published story.
        source = self.opts.apps.get_model(request.GET["app_label"], request.GET["model_name"])
        if self.admin_site.is_registered(source) and not self.can_publish(request):
            source_admin = self.admin_site.get_model_admin(source)
            if request.GET["field_name"] in getattr(source_admin, "parent_fields", []):
                queryset = queryset.exclude(status=Article.Status.PUBLISHED)
        return queryset, may_have_duplicates

    @admin.display(description="Entries mentioned", ordering="num_entries")
    def entry_count(self, obj):
        return obj.num_entries

    @admin.display(description="Status", ordering="status")
    def state(self, obj):
        return obj.state

    def view_on_site(self, obj):
        if obj.is_published:
            return obj.get_absolute_url()
        return reverse("article_preview", kwargs={"slug": obj.slug})

    @staticmethod
    def can_publish(request) -> bool:
        return request.user.has_perm("explainer.publish_article")

    def has_change_permission(self, request, obj=None):
        # A contributor may not edit what readers already see: that would be publishing.
        published = obj is not None and obj.status == Article.Status.PUBLISHED
        if published and not self.can_publish(request):
            return False
        return super().has_change_permission(request, obj)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        # Reverting checks the story as reverted to: a published story reverted to a draft
        # version would otherwise be a contributor's to rewrite and unpublish.
        article = get_object_or_404(Article, pk=object_id)
        if not self.has_change_permission(request, article):
            raise PermissionDenied
        return super().revision_view(request, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "published_at" in form.base_fields:
            # The date and the time box share one label, which names neither.
            date, time = form.base_fields["published_at"].widget.widgets
            date.attrs["aria-label"] = "Publication date"
            time.attrs["aria-label"] = "Publication time"
        if "status" in form.base_fields and not self.can_publish(request):
            # Enforced by the form's validation, not just hidden: a forged POST with
            # status=published is refused as an invalid choice.
            form.base_fields["status"].choices = [
                choice for choice in Article.Status.choices if choice[0] != Article.Status.PUBLISHED
            ]
        return form


# The opening of a mention's link as ``linking.mark_mentions`` writes it.
MENTION_LINK = re.compile(r'<a class="mention[^"]*" href="[^"]*" data-entry="([^"]*)"')


def highlighted_entries(linked_html: str, review) -> dict[str, str]:
    """The entries the story's highlights link to, by slug: their names."""
    slugs = {html.unescape(slug) for slug in MENTION_LINK.findall(linked_html)}
    names = {row.entry.slug: row.entry.label for row in review.linked if row.entry}
    missing = slugs - names.keys()
    if missing:
        names |= dict(Actor.objects.filter(slug__in=missing).values_list("slug", "name"))
        names |= dict(BackgroundNote.objects.filter(slug__in=missing).values_list("slug", "title"))
    return {slug: names[slug] for slug in sorted(slugs, key=str.casefold) if slug in names}


def review_body(linked_html: str, names: dict[str, str]) -> str:
    """The linked story for the review panel: each highlight names its entry and opens it
    in a new tab, so that following one never leaves the unsaved form."""

    def labelled(match: re.Match) -> str:
        name = names.get(html.unescape(match.group(1)), "its entry")
        title = html.escape(f"{name} (opens in a new tab)")
        return f'{match.group(0)} target="_blank" rel="noopener" title="{title}"'

    return MENTION_LINK.sub(labelled, linked_html)


def shown_to_readers(parent: Article | Actor | BackgroundNote) -> bool:
    # A scheduled story counts: it goes live without another edit.
    if isinstance(parent, Article):
        return parent.status == Article.Status.PUBLISHED
    return parent.is_published


def publish_permission(model: type[Article | Actor | BackgroundNote]) -> str:
    """The permission to change a story or an entry once readers see it. Entries have no
    separate one: whoever may change an entry may also publish or unpublish it."""
    if model is Article:
        return "explainer.publish_article"
    return f"explainer.{get_permission_codename('change', model._meta)}"


class PartAdmin(admin.ModelAdmin):
    """The admin for rows that readers see as part of a story or an entry (a mention, a
    figure, an alias, a source). The row is locked along with its story or entry: on a
    published one, adding, changing or deleting it takes that story's or entry's publish
    permission, and the form offers only the stories or entries the user may change."""

    # The keys to the story or entry a row belongs to.
    parent_fields = ["actor", "note"]

    def has_module_permission(self, request):
        # Edited inline on their story or entry: kept out of the index and the menu. Their
        # lists stay (an inline's "See and edit them all", searches, the autocomplete).
        return False

    def may_change_parts(self, request, obj) -> bool:
        parents = [getattr(obj, name) for name in self.parent_fields]
        return all(
            request.user.has_perm(publish_permission(type(parent)))
            for parent in parents
            if parent is not None and shown_to_readers(parent)
        )

    def has_change_permission(self, request, obj=None):
        if obj is not None and not self.may_change_parts(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Also asked of each row in a bulk delete, which is then refused as a whole.
        if obj is not None and not self.may_change_parts(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.related_model
        if db_field.name in self.parent_fields and not request.user.has_perm(
            publish_permission(model)
        ):
            # Validated on the server: a forged choice of a published one is refused.
            unpublished = (
                ~Q(status=Article.Status.PUBLISHED) if model is Article else Q(is_published=False)
            )
            kwargs["queryset"] = model._default_manager.filter(unpublished)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Alias)
class AliasAdmin(PartAdmin):
    list_display = ["text", "actor", "note", "case_sensitive", "is_short_form"]
    list_filter = ["is_short_form", "case_sensitive"]
    search_fields = ["text", "actor__name", "note__title"]
    autocomplete_fields = ["actor", "note"]
    list_select_related = ["actor", "note"]
    fields = ["text", "actor", "note", "case_sensitive", "is_short_form"]


@admin.register(Mention)
class MentionAdmin(PartAdmin):
    list_display = ["quote", "article", "actor", "note", "origin", "is_linked", "is_suppressed"]
    list_filter = ["origin", "is_linked", "is_suppressed", "is_orphaned"]
    search_fields = ["quote", "article__headline"]
    autocomplete_fields = ["article", "actor", "note"]
    list_select_related = ["article", "actor", "note"]
    form = MentionForm
    fields = ["article", "actor", "note", "quote", "is_suppressed"]
    # Its story, not the entry it links to: the link is part of the story's text.
    parent_fields = ["article"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        relinking.mark_stories_changed([obj.article_id])
        scheduling.request_relink(stories=[obj.article_id], reason=f"Mention edited: {obj.quote}")

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        relinking.mark_stories_changed([obj.article_id])
        scheduling.request_relink(stories=[obj.article_id], reason=f"Mention removed: {obj.quote}")

    def delete_queryset(self, request, queryset):
        article_ids = set(queryset.values_list("article_id", flat=True))
        super().delete_queryset(request, queryset)
        relinking.mark_stories_changed(article_ids)
        scheduling.request_relink(stories=article_ids, reason="Mentions removed")


@admin.register(Source)
class SourceAdmin(PartAdmin):
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    list_display = ["label", "url", "actor", "note"]
    search_fields = ["label", "url"]
    autocomplete_fields = ["actor", "note"]
    list_select_related = ["actor", "note"]


@admin.register(Figure)
class FigureAdmin(PartAdmin):
    list_display = ["__str__", "article", "credit", "position"]
    search_fields = ["caption", "credit", "article__headline"]
    autocomplete_fields = ["article"]
    list_select_related = ["article"]
    parent_fields = ["article"]


def render_story_relink(article: Article) -> str:
    return render_to_string(
        "admin/explainer/_story_relink.html",
        {
            "article": article,
            "pending": scheduling.story_pending(article),
            "poll_url": reverse("admin:explainer_article_relink_status", args=[article.pk]),
        },
    )


class PendingRelinkInline(admin.TabularInline):
    model = PendingRelink
    fields = ["article", "requested_at", "attempts", "last_error", "failed_at"]
    readonly_fields = fields
    verbose_name = "story still to relink"
    verbose_name_plural = "Stories still to relink (failed ones first)"
    can_delete = False
    max_num = 0
    show_change_link = False

    def get_queryset(self, request):
        # A big job has thousands: show the first failures and a sample of the rest.
        queryset = super().get_queryset(request).select_related("article")
        ids = list(
            queryset.order_by(F("failed_at").desc(nulls_last=True), "pk").values_list(
                "pk", flat=True
            )[:50]
        )
        return queryset.filter(pk__in=ids)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RelinkJob)
class RelinkJobAdmin(admin.ModelAdmin):
    """Background relinking as editors follow it: what each edit asked for and how far
    the workers have got. Read-only, apart from retrying stories that failed."""

    list_display = ["reason", "status", "total", "requested_by", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["requested_by"]
    search_fields = ["reason"]
    fields = ["progress", "reason", "status", "total", "requested_by", "created_at", "finished_at"]
    readonly_fields = fields
    inlines = [PendingRelinkInline]
    change_form_template = "admin/explainer/relinkjob_change_form.html"

    class Media:
        js = HTMX_MEDIA
        css = {"all": ["explainer/admin.css"]}

    @admin.display(description="Progress")
    def progress(self, obj):
        return render_job_progress(obj)

    def has_view_permission(self, request, obj=None):
        # Every member of staff may see how their edit is being applied.
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "<int:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="explainer_relinkjob_progress",
            ),
            path(
                "<int:object_id>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="explainer_relinkjob_retry",
            ),
            *super().get_urls(),
        ]

    def progress_view(self, request, object_id):
        job = get_object_or_404(RelinkJob, pk=object_id)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return HttpResponse(render_job_progress(job))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        failures = PendingRelink.objects.filter(job_id=object_id).exclude(failed_at=None)
        extra_context = {"has_failures": failures.exists(), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def retry_view(self, request, object_id):
        job = get_object_or_404(RelinkJob, pk=object_id)
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:explainer_relinkjob_change", args=[job.pk]))
        if not request.user.has_perm("explainer.change_article"):
            raise PermissionDenied
        count = scheduling.retry_failed(job)
        self.message_user(request, f"{count:,} failed stories handed back to the workers.")
        return HttpResponseRedirect(reverse("admin:explainer_relinkjob_change", args=[job.pk]))
