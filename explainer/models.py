"""The domain: stories, the context library (actors and background notes), the surface
forms that name them (aliases), and the places stories mention them (mentions)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import reversion
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length, Lower, Substr
from django.utils import timezone
from django.utils.text import slugify

from .addresses import page_path
from .dates import format_partial_date, period_covers, starts_after, when_phrase, year_range
from .descriptions import RoleHeld
from .linking import normalize_alias
from .sanitize import (
    MAX_NESTING_DEPTH,
    TooDeeplyNested,
    html_to_text,
    markup_in_text,
    nesting_depth,
    sanitize_body_html,
    sanitize_summary_html,
)
from .suggestions import is_ordinary_phrase
from .text import phrase_lines, without_control_characters
from .textindex import index_words, story_index_text

MAX_BODY_CHARS = 1_000_000


def strip_control_characters(obj: models.Model) -> None:
    """Remove control characters from the text an editor or an importer gave ``obj``
    (``text.without_control_characters``; text areas keep their line breaks). Every
    ``save`` starts with it, before anything is derived from that text: one control
    character is enough to stop the feed being written, and NUL to stop PostgreSQL
    storing the row. Removed rather than refused: they are invisible, so an editor told
    about one could not find it."""
    for model_field in obj._meta.concrete_fields:
        value = getattr(obj, model_field.attname)
        if model_field.editable and isinstance(value, str):
            multiline = isinstance(model_field, models.TextField)
            setattr(
                obj, model_field.attname, without_control_characters(value, multiline=multiline)
            )


def refuse_invisible_text(obj: models.Model) -> None:
    """A form error for a required field whose text is only control characters: saving
    would strip it to nothing, and a story without a headline must not be saved as one."""
    errors = {}
    for model_field in obj._meta.concrete_fields:
        value = getattr(obj, model_field.attname)
        if not (model_field.editable and not model_field.blank and isinstance(value, str)):
            continue
        multiline = isinstance(model_field, models.TextField)
        if value.strip() and not without_control_characters(value, multiline=multiline).strip():
            errors[model_field.name] = (
                "This holds only invisible control characters (pasted from another program?). "
                "Type the text again."
            )
    if errors:
        raise ValidationError(errors)


def refuse_markup(obj: models.Model, *, rich_text: tuple[str, ...] = ()) -> None:
    """A form error for markup in a plain-text field: readers would see it as typed. Only
    what looks like a tag is refused, so "a < b" and "Kim <3" are fine."""
    errors = {}
    for model_field in obj._meta.concrete_fields:
        value = getattr(obj, model_field.attname)
        if not model_field.editable or model_field.name in rich_text or not isinstance(value, str):
            continue
        if isinstance(model_field, models.URLField | models.SlugField):
            continue  # their own validators refuse "<"
        tag = markup_in_text(value)
        if tag is not None:
            errors[model_field.name] = (
                f"Plain text only: remove the {tag} "
                f"{'comment' if tag.startswith('<!') else 'tag'}. Readers would see it as typed."
            )
    if errors:
        raise ValidationError(errors)


def refuse_deep_nesting(obj, field_name: str) -> None:
    """A form error, before saving, for editor HTML too deeply nested to sanitize."""
    depth = nesting_depth(getattr(obj, field_name) or "")
    if depth > MAX_NESTING_DEPTH:
        raise ValidationError({field_name: str(TooDeeplyNested(depth))})


# Article fields only relinking writes (relinking.write_story).
RELINK_FIELDS = (
    "linked_body_html",
    "linked_library_version",
    "rendered_at",
    "page_html",
    "page_format",
    "page_rendered_at",
)

partial_date_validator = RegexValidator(
    r"^[1-9]\d{3}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$",
    "Enter a year (2003), a year and month (2003-08) or a full date (2003-08-27).",
)
wikidata_validator = RegexValidator(
    r"^Q[1-9]\d*$", "A Wikidata ID is a capital Q followed by digits, e.g. Q56226."
)


class PartialDateField(models.CharField):
    """A date known to the year, the month or the day, stored as ISO text ("2003",
    "2003-08", "2003-08-27") so that sorting the text sorts the dates."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("validators", [partial_date_validator])
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("validators", None)
        return name, path, args, kwargs


def validate_partial_date_exists(value: str) -> None:
    if value.count("-") == 2:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{value} is not a date in the calendar.") from None


def ends_after_start(name: str) -> models.CheckConstraint:
    # Compared at the coarser precision: "2003" ends no earlier than "2003-08" starts.
    return models.CheckConstraint(
        condition=Q(ends_on="")
        | Q(starts_on="")
        | Q(ends_on__gte=Substr("starts_on", 1, Length("ends_on"))),
        name=name,
        violation_error_message="The end cannot come before the start.",
    )


def clean_period(obj) -> None:
    for name in ("starts_on", "ends_on"):
        try:
            validate_partial_date_exists(getattr(obj, name))
        except ValidationError as error:
            raise ValidationError({name: error.messages}) from None
    if obj.starts_on and obj.ends_on and obj.ends_on < obj.starts_on[: len(obj.ends_on)]:
        raise ValidationError({"ends_on": "The end cannot come before the start."})


def unique_slug(model: type[models.Model], text: str, *, exclude_pk=None, fallback: str) -> str:
    """A unicode-safe slug for ``text`` not yet used by ``model``: "김정은-푸틴", "story-2"."""
    base = slugify(text, allow_unicode=True)[:180].strip("-") or fallback
    slug, number = base, 2
    others = model.objects.exclude(pk=exclude_pk) if exclude_pk else model.objects.all()
    while others.filter(slug=slug).exists():
        slug = f"{base}-{number}"
        number += 1
    return slug


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())


class Article(models.Model):
    """A story as readers see it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        REVIEW = "review", "In review"
        PUBLISHED = "published", "Published"

    headline = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        allow_unicode=True,
        blank=True,
        help_text="The story's address. Leave blank to make one from the headline.",
    )
    dek = models.CharField(
        "standfirst",
        max_length=500,
        blank=True,
        help_text="The line under the headline that says what the story is about.",
    )
    byline = models.CharField(max_length=200, blank=True, help_text="For example: Lee Min-hyung.")
    outlet = models.CharField(
        max_length=200, blank=True, help_text="The publication the story first ran in, if not ours."
    )
    original_url = models.URLField(
        "original URL",
        max_length=500,
        blank=True,
        help_text="Where the story first ran, if elsewhere.",
    )
    dateline = models.CharField(max_length=100, blank=True, help_text="For example: Vladivostok.")
    published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the story was published. Required to publish."
    )
    status = models.CharField(max_length=20, choices=Status, default=Status.DRAFT)
    body = models.TextField(
        help_text="Paragraphs, headings (2 to 4), lists, quotes, links, bold and italic. "
        "Anything else, pasted or typed, is removed when you save, and you are told what.",
        validators=[MinLengthValidator(1)],
    )
    body_html = models.TextField(editable=False, default="")
    body_text = models.TextField(editable=False, default="")
    # The story's words in the matcher's normal form (``textindex.story_index_text``): the
    # database indexes them, so the stories an alias may occur in are found without a scan.
    match_text = models.TextField(editable=False, default="")
    linked_body_html = models.TextField(editable=False, default="")
    # The library version (``LibraryVersion``) the story was last linked on: a relink on an
    # older library (a worker's chunk begun before an alias changed) never writes over it.
    linked_library_version = models.PositiveBigIntegerField(editable=False, default=0)
    # When the linked body was last rendered: it versions the cached story page, so an
    # edit to the story or to any entry or alias it mentions gives readers a fresh page.
    rendered_at = models.DateTimeField(editable=False, null=True)
    # The story page as relinking last rendered it (``stories.render_page``), the whole
    # document with a placeholder for the origin a reader asked on, so that a page not in
    # the cache is one row and no template. Current while ``page_rendered_at`` equals
    # ``rendered_at`` and ``page_format`` is this deploy's (``stories.page_format``);
    # otherwise the page is rendered in full. ``manage.py relink --all`` stores every page
    # again (after a deploy that changes templates or static files: docs/deploy.md).
    page_html = models.TextField(editable=False, default="")
    page_format = models.CharField(max_length=64, editable=False, default="")
    page_rendered_at = models.DateTimeField(editable=False, null=True)
    link_every_mention = models.BooleanField(
        default=False,
        help_text="Link every mention of an entry, not only the first one in the story.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the last import wrote (``provenance.py``): a later import skips the story when
    # its content no longer matches, because an editor changed it since.
    imported_at = models.DateTimeField(null=True, editable=False)
    import_digest = models.CharField(max_length=64, editable=False, default="")

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        permissions = [("publish_article", "Can publish stories and edit published ones")]
        # The front page and its older pages: the latest published stories, newest first.
        indexes = [models.Index(fields=["status", "published_at", "id"], name="article_latest")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="article_published_has_date",
            ),
        ]

    def __str__(self):
        return self.headline

    def save(self, **kwargs):
        strip_control_characters(self)
        if not self.slug:
            self.slug = unique_slug(Article, self.headline, exclude_pk=self.pk, fallback="story")
        self.body_html = sanitize_body_html(self.body)
        self.body_text = html_to_text(self.body_html)
        self.match_text = story_index_text(self.body_html)
        if not self._state.adding and kwargs.get("update_fields") is None:
            # The linked body is written by relinking alone: an editor's save of a form
            # loaded before the last relink must not put the older links back.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in RELINK_FIELDS
            ]
        # signals.py asks for the relink: saving never links inline.
        super().save(**kwargs)

    def get_absolute_url(self):
        return page_path("article_detail", self.slug)

    def clean(self):
        refuse_invisible_text(self)
        refuse_markup(self, rich_text=("body",))
        if self.status == self.Status.PUBLISHED and not self.published_at:
            raise ValidationError({"published_at": "A published story needs a publication date."})
        if len(self.body) > MAX_BODY_CHARS:
            raise ValidationError(
                {
                    "body": f"The body is {len(self.body):,} characters long; the limit is "
                    f"{MAX_BODY_CHARS:,}. Split the story or remove pasted material."
                }
            )
        refuse_deep_nesting(self, "body")

    @property
    def state(self) -> str:
        """What an editor needs to know: draft, in review, scheduled or published."""
        if self.status == self.Status.PUBLISHED and self.published_at > timezone.now():
            return "Scheduled"
        return self.get_status_display()

    @property
    def is_published(self) -> bool:
        return Article.published_now(self.status, self.published_at)

    @staticmethod
    def published_now(status: str, published_at: dt.datetime | None) -> bool:
        """Whether a story with this status and publication time is one readers see now
        (what ``Article.objects.published()`` selects), for rows read without a model."""
        return bool(
            status == Article.Status.PUBLISHED and published_at and published_at <= timezone.now()
        )


class Figure(models.Model):
    """A photo (or a photo's caption, when we hold no licence for the image) in a story."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="figures")
    position = models.PositiveIntegerField(default=0, help_text="Figures show in this order.")
    image = models.ImageField(upload_to="figures/%Y/%m/", blank=True)
    alt_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the image shows, for readers who cannot see it. Required with an image.",
    )
    caption = models.TextField(blank=True)
    credit = models.CharField(max_length=200, blank=True, help_text="For example: AP-Yonhap.")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.caption[:80] or f"Figure {self.position}"

    def save(self, **kwargs):
        strip_control_characters(self)
        super().save(**kwargs)

    def clean(self):
        refuse_markup(self)
        if self.image and not self.alt_text.strip():
            raise ValidationError({"alt_text": "Describe the image for readers who cannot see it."})
        if not self.image and not self.caption.strip():
            raise ValidationError({"caption": "A figure needs an image or a caption."})


class ContextEntryQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class ContextEntry(models.Model):
    """What actors and background notes share: an address, a one-line description and a
    short summary shown on cards."""

    slug = models.SlugField(
        max_length=120,
        unique=True,
        allow_unicode=True,
        help_text="The entry's address, shared by actors and notes: it must be unique across both.",
    )
    description = models.CharField(
        max_length=200,
        help_text='One line on who or what this is, e.g. "President of Russia". No full stop.',
    )
    summary = models.TextField(
        blank=True,
        help_text="A few sentences for the context card: paragraphs, links, bold and italic. "
        "Anything else is removed when you save, and you are told what.",
    )
    summary_html = models.TextField(editable=False, default="")
    # A snapshot of the rows a card and page show (aliases, sources, roles or dated updates,
    # relations), refreshed whenever one of them changes: a card is then one query.
    context_json = models.JSONField(editable=False, default=dict)
    is_published = models.BooleanField(
        "show to readers",
        default=True,
        help_text="Untick while the entry is being written: stories then link it only in "
        "staff previews, and its page is hidden from readers.",
    )
    reviewed_on = models.DateField(
        "last reviewed",
        null=True,
        blank=True,
        help_text="When an editor last checked this entry's facts. Readers see it on cards.",
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # What the last import wrote (``provenance.py``): a later import skips the entry when
    # its content no longer matches, because an editor changed it since.
    imported_at = models.DateTimeField(null=True, editable=False)
    import_digest = models.CharField(max_length=64, editable=False, default="")

    objects = ContextEntryQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, **kwargs):
        strip_control_characters(self)
        self.summary_html = sanitize_summary_html(self.summary)
        super().save(**kwargs)

    def clean(self):
        refuse_invisible_text(self)
        refuse_markup(self, rich_text=("summary", "body"))
        refuse_deep_nesting(self, "summary")
        slug_owner = other_entry_with_slug(self.slug, exclude=self)
        if slug_owner is not None:
            # The code and owner let the admin link the message to the entry (admin.py).
            taken = ValidationError(
                "“%(owner)s” already uses the address %(slug)s.",
                code="slug_taken",
                params={"owner": slug_owner, "slug": self.slug},
            )
            raise ValidationError({"slug": taken})

    @property
    def entry_field(self) -> str:
        return "actor" if isinstance(self, Actor) else "note"

    @property
    def label(self) -> str:
        raise NotImplementedError

    @property
    def entry_key(self) -> str:
        return entry_key(self.entry_field, self.pk)


# An entry named in one string, in batches, relink jobs' scopes and the linker's matches:
# "actor:3", "backgroundnote:5" (the model's name; ``entry_field`` is "actor" or "note").
_ENTRY_KEY_PREFIX = {"actor": "actor", "note": "backgroundnote"}


def entry_key(field: str, pk: int) -> str:
    return f"{_ENTRY_KEY_PREFIX[field]}:{pk}"


def entry_key_column(key: str) -> tuple[str, int]:
    """The foreign-key column and id an entry key names: ("note_id", 5)."""
    prefix, _, pk = key.partition(":")
    field = next(name for name, known in _ENTRY_KEY_PREFIX.items() if known == prefix)
    return f"{field}_id", int(pk)


def other_entry_with_slug(slug: str, *, exclude: ContextEntry) -> ContextEntry | None:
    for model in (Actor, BackgroundNote):
        queryset = model.objects.filter(slug=slug)
        if isinstance(exclude, model) and exclude.pk:
            queryset = queryset.exclude(pk=exclude.pk)
        found = queryset.first()
        if found:
            return found
    return None


@dataclass
class EntryContext:
    """What a card says of an entry on a story's date: the line under its name (the role
    then held, for an actor), the years of that role, and what has changed since."""

    line: str
    period: str = ""
    since_then: list[str] = field(default_factory=list)
    day: dt.date | None = None
    is_role_then: bool = False


class Actor(ContextEntry):
    """A person, organization, country or place that stories mention."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ORGANIZATION = "organization", "Organization"
        COUNTRY = "country", "Country"
        PLACE = "place", "Place"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.PERSON)
    image = models.ImageField(upload_to="actors/", blank=True)
    image_alt = models.CharField("image alt text", max_length=300, blank=True)
    image_credit = models.CharField(max_length=200, blank=True)
    wikidata_id = models.CharField(
        "Wikidata ID",
        max_length=20,
        blank=True,
        validators=[wikidata_validator],
        help_text="For example Q56226 (Kim Jong-un). Links the entry to Wikidata.",
    )

    class Meta:
        ordering = ["name"]
        # The library index (``indexes.py``) reads a page of a kind, A to Z, from a name on.
        indexes = [
            models.Index(
                F("kind"),
                Lower("name"),
                F("id"),
                name="actor_a_to_z",
                condition=Q(is_published=True),
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return page_path("actor_detail", self.slug)

    def clean(self):
        super().clean()
        if self.image and not self.image_alt.strip():
            raise ValidationError(
                {"image_alt": "Describe the image for readers who cannot see it."}
            )

    @property
    def label(self) -> str:
        return self.name

    @property
    def wikidata_url(self) -> str:
        return f"https://www.wikidata.org/wiki/{self.wikidata_id}" if self.wikidata_id else ""

    def context_on(self, day: dt.date | None, *, roles: list[Role] | None = None) -> EntryContext:
        """Who this actor was on ``day`` (a story's date) and what has changed since."""
        roles = list(self.roles.all()) if roles is None else roles
        if day is None:
            current = [role for role in roles if not role.ends_on]
            return EntryContext(line=self.description or (current[-1].label if current else ""))
        held = [
            role
            for role in roles
            if period_covers(starts_on=role.starts_on, ends_on=role.ends_on, day=day)
        ]
        role = held[-1] if held else None
        since: list[str] = []
        for other in held:
            if starts_after(other.ends_on, day):
                successor = (
                    f"{other.succeeded_by} replaced {self.name} as {other.label}"
                    if other.succeeded_by
                    else f"{self.name} left the post of {other.label}"
                )
                since.append(f"{successor} {when_phrase(other.ends_on)}.")
        for later in roles:
            if starts_after(later.starts_on, day):
                since.append(f"{later.label} from {format_partial_date(later.starts_on)}.")
        if role is None:
            # No dated role that day: the card keeps the one-line description, or, when an
            # editor left it blank, the current role (never presented as held back then).
            current = [other for other in roles if not other.ends_on]
            line = self.description or (current[-1].label if current else "")
            return EntryContext(line=line, since_then=since, day=day)
        return EntryContext(
            line=role.label, period=role.years, since_then=since, day=day, is_role_then=True
        )


class BackgroundNote(ContextEntry):
    """An event, process, agreement or topic that explains a story."""

    class Kind(models.TextChoices):
        EVENT = "event", "Event"
        PROCESS = "process", "Talks or process"
        AGREEMENT = "agreement", "Agreement"
        TOPIC = "topic", "Topic"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind, default=Kind.TOPIC)
    body = models.TextField(
        blank=True,
        help_text="Longer background, optional: paragraphs, headings (2 to 4), lists, quotes, "
        "links, bold and italic. Anything else is removed when you save, and you are told what.",
    )
    body_html = models.TextField(editable=False, default="")
    starts_on = PartialDateField(help_text="YYYY, YYYY-MM or YYYY-MM-DD. Optional.")
    ends_on = PartialDateField(help_text="YYYY, YYYY-MM or YYYY-MM-DD. Optional.")
    actors = models.ManyToManyField(
        Actor,
        blank=True,
        related_name="notes",
        help_text="The people, organizations and countries involved.",
    )
    related_notes = models.ManyToManyField(
        "self", blank=True, help_text="Events and topics a reader should see alongside this one."
    )

    class Meta:
        ordering = ["title"]
        verbose_name = "background note"
        indexes = [
            models.Index(
                F("kind"),
                Lower("title"),
                F("id"),
                name="note_a_to_z",
                condition=Q(is_published=True),
            )
        ]
        constraints = [ends_after_start("note_ends_after_start")]

    def __str__(self):
        return self.title

    def save(self, **kwargs):
        strip_control_characters(self)
        self.body_html = sanitize_body_html(self.body)
        super().save(**kwargs)

    def get_absolute_url(self):
        return page_path("note_detail", self.slug)

    def clean(self):
        super().clean()
        refuse_deep_nesting(self, "body")
        clean_period(self)

    @property
    def label(self) -> str:
        return self.title

    def context_on(
        self, day: dt.date | None, *, updates: list[NoteUpdate] | None = None
    ) -> EntryContext:
        """The note's one-line description, and its dated updates after ``day``."""
        if day is None:
            return EntryContext(line=self.description)
        updates = list(self.updates.all()) if updates is None else updates
        since = [
            f"{format_partial_date(update.happened_on)}: {update.text}"
            for update in updates
            if starts_after(update.happened_on, day)
        ]
        return EntryContext(line=self.description, since_then=since, day=day)

    @property
    def date_range(self) -> str:
        start, end = format_partial_date(self.starts_on), format_partial_date(self.ends_on)
        if start and end and start != end:
            return f"{start} – {end}"
        return start or end


class Role(models.Model):
    """A position an actor held for a while: what a card says they were on a story's date."""

    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="roles")
    title = models.CharField(max_length=200, help_text="For example: Foreign Minister.")
    organization = models.CharField(
        "organization or country",
        max_length=200,
        blank=True,
        help_text="For example: North Korea.",
    )
    starts_on = PartialDateField(help_text="YYYY, YYYY-MM or YYYY-MM-DD.")
    ends_on = PartialDateField(help_text="Leave blank while the role is held.")
    succeeded_by = models.CharField(
        max_length=200, blank=True, help_text="Who took the role next, e.g. Ri Son-gwon."
    )
    title_forms = models.TextField(
        blank=True,
        help_text="Other forms of the title that stories put before or after a surname, one "
        "per line: “Chairman”, “위원장”. The title itself counts already. “Chairman Kim” then "
        "links to whoever was chairman on the story's date.",
    )
    holder_phrases = models.TextField(
        blank=True,
        help_text="Phrases that name whoever held the role, with no name, one per line: "
        "“the secretary of state”, “Russia's foreign minister”. Only phrases one person "
        "holds at a time; never a bare “the president”.",
    )

    class Meta:
        ordering = ["starts_on", "pk"]
        constraints = [ends_after_start("role_ends_after_start")]

    def __str__(self):
        return f"{self.label} ({self.years})" if self.years else self.label

    def save(self, **kwargs):
        strip_control_characters(self)
        super().save(**kwargs)

    def clean(self):
        refuse_markup(self)
        clean_period(self)

    @property
    def label(self) -> str:
        return f"{self.title} of {self.organization}" if self.organization else self.title

    @property
    def title_form_list(self) -> list[str]:
        return phrase_lines(f"{self.title}\n{self.title_forms}")

    @property
    def holder_phrase_list(self) -> list[str]:
        return phrase_lines(self.holder_phrases)

    @property
    def held(self) -> RoleHeld:
        return RoleHeld(
            title=self.title,
            other_titles=tuple(self.title_form_list),
            starts_on=self.starts_on,
            ends_on=self.ends_on,
        )

    @property
    def years(self) -> str:
        return year_range(self.starts_on, self.ends_on)


class NoteUpdate(models.Model):
    """A dated development in a background note: "North Korea quits the talks"."""

    note = models.ForeignKey(BackgroundNote, on_delete=models.CASCADE, related_name="updates")
    happened_on = PartialDateField(blank=False, help_text="YYYY, YYYY-MM or YYYY-MM-DD.")
    text = models.CharField(
        max_length=300, help_text="One sentence, e.g. “North Korea quits the talks.”"
    )

    class Meta:
        ordering = ["happened_on", "pk"]

    def __str__(self):
        return f"{self.happened_on}: {self.text}"

    def save(self, **kwargs):
        strip_control_characters(self)
        super().save(**kwargs)

    def clean(self):
        refuse_markup(self)
        try:
            validate_partial_date_exists(self.happened_on)
        except ValidationError as error:
            raise ValidationError({"happened_on": error.messages}) from None


def exactly_one_entry(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(Q(actor__isnull=False) & Q(note__isnull=True))
        | (Q(actor__isnull=True) & Q(note__isnull=False)),
        name=f"{prefix}_exactly_one_entry",
        violation_error_message="Choose either an actor or a background note, not both.",
    )


def actor_link(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        Actor, null=True, blank=True, on_delete=models.CASCADE, related_name=related_name
    )


def note_link(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        BackgroundNote,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name=related_name,
        verbose_name="background note",
    )


class EntryLinkMixin(models.Model):
    """A row that belongs to exactly one actor or one background note (``actor``/``note``
    are declared by each model, for their related names)."""

    class Meta:
        abstract = True

    @property
    def entry(self) -> ContextEntry | None:
        return self.actor or self.note

    def clean_entry(self):
        # Compare the related objects, not their ids: in an inline on a new entry the
        # entry is set but not saved yet.
        if (self.actor is None) == (self.note is None):
            raise ValidationError("Choose either an actor or a background note, not both.")


class Alias(EntryLinkMixin):
    """A surface form that names an entry in story text: a spelling, a short form, another
    script ("Kim Jong Un", "Kim", "김정은", "Ким Чен Ын"). Several entries may share one
    ("Kim" is many people's): the linker then decides in the story's context which is meant,
    and leaves the phrase to the editor when it cannot tell."""

    actor = actor_link("aliases")
    note = note_link("aliases")
    text = models.CharField(
        max_length=200,
        help_text="Exactly as it may appear in a story. Hyphens, spaces and curly apostrophes "
        "match each other.",
    )
    normalized = models.CharField(max_length=200, db_index=True, editable=False)
    case_sensitive = models.BooleanField(
        default=False,
        help_text="Match only with this capitalisation. Use for short forms such as “US” or “Kim”.",
    )
    is_short_form = models.BooleanField(
        "short form",
        default=False,
        help_text="Needs context: links only after the entry's full name earlier in the same "
        "story, or beside a title the entry held on the story's date (“President Moon”, "
        "“김 위원장”). Use for surnames (“Kim”, “김”, “金”) and phrases such as “the North”.",
    )

    class Meta:
        verbose_name_plural = "aliases"
        ordering = ["text"]
        constraints = [
            exactly_one_entry("alias"),
            models.UniqueConstraint(
                fields=["actor", "normalized"],
                condition=Q(actor__isnull=False),
                name="alias_unique_per_actor",
            ),
            models.UniqueConstraint(
                fields=["note", "normalized"],
                condition=Q(note__isnull=False),
                name="alias_unique_per_note",
            ),
        ]

    def __str__(self):
        return self.text

    def save(self, **kwargs):
        strip_control_characters(self)
        self.text = " ".join(self.text.split())
        self.normalized = normalize_alias(self.text)
        super().save(**kwargs)

    def clean(self):
        self.text = " ".join(self.text.split())
        if not index_words(self.text):
            # Such an alias has no word to find it by: stories could not be looked up for it.
            raise ValidationError({"text": "An alias needs at least one letter or digit."})
        if not self.is_short_form:
            if len(self.text) < 2:
                raise ValidationError(
                    {
                        "text": f"“{self.text}” is one character: on its own it would link "
                        "wherever it stands. Tick “short form” so it links only after the "
                        "entry's full name (as “金” after “김정은”)."
                    }
                )
            if is_ordinary_phrase(self.text):
                raise ValidationError(
                    {
                        "text": f"“{self.text}” is made of common words, so on its own it "
                        "would link where it means something else. Tick “short form” so it "
                        "links only after the entry's full name earlier in the story."
                    }
                )
        self.clean_entry()
        if self.entry is None or self.entry.pk is None:
            return
        twin = (
            Alias.objects.filter(
                normalized=normalize_alias(self.text), **{self.entry.entry_field: self.entry}
            )
            .exclude(pk=self.pk)
            .first()
        )
        if twin is not None:
            raise ValidationError({"text": f"“{twin.text}” is already an alias of this entry."})

    def validate_unique(self, exclude=None):
        # ``normalized`` is derived, so Django's own unique check would never see it;
        # ``clean`` reports the clash in words an editor understands.
        exclude = set(exclude or ()) | {"normalized"}
        super().validate_unique(exclude=exclude)

    def validate_constraints(self, exclude=None):
        exclude = set(exclude or ()) | {"normalized"}
        super().validate_constraints(exclude=exclude)


class Source(EntryLinkMixin):
    """Where an entry's facts come from."""

    actor = actor_link("sources")
    note = note_link("sources")
    label = models.CharField(
        "publisher", max_length=200, help_text="For example: Yonhap News Agency."
    )
    title = models.CharField(
        max_length=300, blank=True, help_text="The headline or document title, as published."
    )
    published_on = PartialDateField(blank=True, help_text="YYYY, YYYY-MM or YYYY-MM-DD.")
    url = models.URLField("URL", max_length=500)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [exactly_one_entry("source")]

    def __str__(self):
        return self.label

    def save(self, **kwargs):
        strip_control_characters(self)
        super().save(**kwargs)

    @property
    def display_date(self) -> str:
        return format_partial_date(self.published_on)


class Mention(EntryLinkMixin):
    """A place where a story mentions an entry, anchored like a W3C Web Annotation:
    the exact quote, its surroundings and its offset in the story's text."""

    class Origin(models.TextChoices):
        AUTOMATIC = "auto", "Found automatically"
        EDITOR = "editor", "Placed by an editor"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="mentions")
    actor = actor_link("mentions")
    note = note_link("mentions")
    quote = models.CharField(max_length=300, help_text="The exact words in the story.")
    prefix = models.CharField(max_length=100, blank=True, editable=False)
    suffix = models.CharField(max_length=100, blank=True, editable=False)
    start = models.PositiveIntegerField(
        null=True, blank=True, editable=False, help_text="Character offset in the story's text."
    )
    origin = models.CharField(max_length=10, choices=Origin, default=Origin.EDITOR)
    is_suppressed = models.BooleanField(
        "don't link here",
        default=False,
        help_text="Keep the mention on record but show it as plain text.",
    )
    is_linked = models.BooleanField(default=False, editable=False)
    is_orphaned = models.BooleanField(
        default=False,
        editable=False,
        help_text="The quote could not be found in the story's text after an edit.",
    )

    class Meta:
        ordering = ["article", "start", "pk"]
        constraints = [
            exactly_one_entry("mention"),
            models.CheckConstraint(
                condition=~Q(origin="auto") | Q(start__isnull=False), name="mention_auto_has_start"
            ),
        ]
        indexes = [models.Index(fields=["article", "start"])]

    def __str__(self):
        return f"{self.quote} → {self.entry}"

    def clean(self):
        self.clean_entry()


# Revisions (django-reversion): every save of a story, actor or note through the admin is
# kept with the rows that belong to it, so any version can be compared and restored exactly.
reversion.register(Figure)
reversion.register(Mention)
reversion.register(Alias)
reversion.register(Source)
reversion.register(Role)
reversion.register(NoteUpdate)
reversion.register(Article, follow=["figures", "mentions"])
reversion.register(Actor, follow=["aliases", "sources", "roles"])
reversion.register(BackgroundNote, follow=["aliases", "sources", "updates"])


class LibraryVersion(models.Model):
    """One row whose number goes up whenever what the linker matches changes (an alias, or
    an entry's address, kind or publication): workers and web processes keep the matcher
    they built for a number and rebuild only when it moves."""

    number = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"Library version {self.number}"

    @classmethod
    def current(cls) -> int:
        row = cls.objects.filter(pk=1).values_list("number", flat=True).first()
        return row or 0

    @classmethod
    def bump(cls) -> None:
        if not cls.objects.filter(pk=1).update(number=models.F("number") + 1):
            cls.objects.get_or_create(pk=1, defaults={"number": 1})


class RelinkJob(models.Model):
    """Stories to relink after an edit, worked through by background workers. Editors see
    its progress ("Relinking 1,204 stories: 340 done") on the entry or story they saved."""

    class Status(models.TextChoices):
        PLANNING = "planning", "Finding the stories"
        RUNNING = "running", "Relinking"
        DONE = "done", "Done"

    reason = models.CharField(max_length=300)
    # What the job is about, for the progress shown on that entry's or story's page.
    actor = models.ForeignKey(
        Actor, null=True, blank=True, on_delete=models.SET_NULL, related_name="relink_jobs"
    )
    note = models.ForeignKey(
        BackgroundNote, null=True, blank=True, on_delete=models.SET_NULL, related_name="relink_jobs"
    )
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.CASCADE, related_name="relink_jobs"
    )
    # Which stories: {"stories": [ids], "entries": ["actor:3"], "phrases": [normalized
    # aliases], "all": false}. The workers turn it into one PendingRelink per story.
    scope = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status, default=Status.PLANNING)
    total = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return self.reason


class PendingRelink(models.Model):
    """A story a job has still to relink. A relink that reads it, on the library version
    it was asked under or a later one, answers it: one relink answers every request made
    before it read the story."""

    job = models.ForeignKey(RelinkJob, on_delete=models.CASCADE, related_name="pending")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="pending_relinks")
    requested_at = models.DateTimeField(default=timezone.now)
    # The library version when it was asked for: a relink on an older library (loaded
    # before the alias edit that asked) cannot answer it, and leaves it to its own job.
    library_version = models.PositiveBigIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set once the retries are used up: shown to editors with the error, until retried.
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "article"], name="pending_relink_once_per_job")
        ]
        indexes = [
            models.Index(fields=["article", "requested_at"]),
            models.Index(fields=["failed_at", "claimed_at"]),
        ]

    def __str__(self):
        return f"{self.article_id} in {self.job_id}"


class CardReads(EntryLinkMixin):
    """How many times readers kept an entry's card open for a second or more in one story on
    one day (Wikipedia's rule for a page preview "seen"). A count and nothing else: no
    reader, address or time of day is kept."""

    actor = actor_link("card_reads")
    note = note_link("card_reads")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="card_reads")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "card reads"
        constraints = [
            exactly_one_entry("card_reads"),
            models.UniqueConstraint(
                fields=["actor", "article", "day"],
                condition=Q(actor__isnull=False),
                name="card_reads_actor_once_a_day",
            ),
            models.UniqueConstraint(
                fields=["note", "article", "day"],
                condition=Q(note__isnull=False),
                name="card_reads_note_once_a_day",
            ),
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.entry} in {self.article_id} on {self.day}: {self.count}"
