"""TikTok for Business's side of the emulator: auth codes, tokens, export tasks, subscriptions.

Rules as TIKTOK_API.md §4 states them: auth codes are single use and valid 1 h; tokens never
expire and die only when revoked; a revoked token's subscriptions stop silently (they are
neither reported nor delivered to any more). In the "expiring" token model (§5, where sources
conflict) an access token lives `expires_in` seconds (then 40102) and comes with a refresh
token; a refresh issues a new pair and kills the refresh token used (the access tokens
already issued live on until they expire). Tokens issued for one consent form an
authorization: a revoke kills all of it, and its subscriptions live as long as it does
(unless TikTok drops one silently, which the control API plays). An export task advances
one step per status poll (CREATED, RUNNING, SUCCEED), its file is built when it succeeds,
holds the leads of the request's region only, and can be downloaded for 10 minutes.
A share of lead webhooks can be dropped (never sent), as when TikTok loses them.
Injected faults may be limited to one advertiser or one lead region, and may strike after
the endpoint acted (the answer is lost, the effect stays).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tiktok_emulator.business_export import export_file
from tiktok_emulator.business_seed import (
    NO_AD,
    SEED_ADVERTISERS,
    FakeAdvertiser,
    FakeForm,
    FakeLead,
    Region,
    answers,
    random_lead_id,
    random_variant,
    seed_leads,
)
from tiktok_emulator.config import (
    BUSINESS_CODE_TTL_SECONDS,
    EXPORT_DOWNLOAD_TTL_SECONDS,
    EmulatorConfig,
)
from tiktok_emulator.faults import take_next

# The Marketing API's error codes the emulator answers with (inside HTTP 200).
NO_PERMISSION = 40001
BAD_PARAMS = 40002
TOKEN_EXPIRED = 40102
INVALID_TOKEN = 40105
# Opaque permission numbers granted with every token.
GRANTED_SCOPE: tuple[int, ...] = (1, 4, 17)

TaskStatus = Literal["CREATED", "RUNNING", "SUCCEED", "FAILED"]
BusinessEndpoint = Literal[
    "access_token",
    "refresh_token",
    "revoke_token",
    "advertiser_get",
    "page_get",
    "lead_task",
    "lead_download",
    "subscribe",
    "subscription_get",
    "unsubscribe",
    "mock_create",
    "mock_delete",
]
BusinessFaultKind = Literal[
    "error_code", "http_503", "garbage", "corrupt_file", "latency", "task_failed", "task_stalled"
]
# Kinds that act on the export task itself, so only its status polls take them.
TASK_FAULTS: frozenset[BusinessFaultKind] = frozenset({"task_failed", "task_stalled"})
LeadSignature = Literal["open", "tiktok", "none"]
LeadSignatureForm = Literal["raw", "unicode_escaped"]
TokenModel = Literal["long_lived", "expiring"]
# One step per status poll.
_PROGRESS: tuple[TaskStatus, ...] = ("CREATED", "RUNNING", "SUCCEED")


class BusinessError(Exception):
    """A Marketing API failure: `{"code": code, "message": ...}` with HTTP 200."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class AuthCode:
    value: str
    redirect_uri: str
    advertiser_ids: tuple[str, ...]
    expires_at: float
    used: bool = False


@dataclass
class AccessGrant:
    token: str
    advertiser_ids: tuple[str, ...]
    issued_at: float
    # The consent it was issued for: a revoke kills every token of it.
    authorization: str = ""
    expires_at: float | None = None  # None: long-lived
    revoked: bool = False


@dataclass
class RefreshGrant:
    token: str
    advertiser_ids: tuple[str, ...]
    authorization: str
    expires_at: float
    # Used once (rotated) or revoked with its authorization.
    dead: bool = False


@dataclass(frozen=True)
class IssuedPair:
    access: AccessGrant
    refresh: RefreshGrant | None


@dataclass
class ExportTask:
    task_id: str
    advertiser_id: str
    page_id: str
    region: Region | None
    polls: int = 0  # the polls that moved it on
    status: TaskStatus = "CREATED"
    succeeded_at: float | None = None
    file: bytes = b""
    is_zip: bool = False


@dataclass
class Subscription:
    subscription_id: str
    token: str
    advertiser_id: str
    page_id: str | None
    callback_url: str
    created_at: float
    removed: bool = False  # unsubscribed by the app
    dropped: bool = False  # stopped silently by TikTok (control API)


@dataclass(frozen=True)
class FaultTarget:
    """What a request is about, for faults limited to an advertiser or a region."""

    advertiser_id: str | None = None
    region: Region | None = None


@dataclass
class BusinessFault:
    endpoint: BusinessEndpoint | Literal["*"]
    kind: BusinessFaultKind
    remaining: int
    code: int = 40100
    latency_ms: int = 0
    # Only requests about this advertiser / with this x-lead-region (None: any).
    advertiser_id: str | None = None
    region: Region | None = None
    # The endpoint acts first and the fault replaces its answer: a lost answer.
    after: bool = False

    def matches(self, target: FaultTarget, *, polling: bool) -> bool:
        """Whether a request takes this fault; task faults only hit export status polls."""
        if self.kind in TASK_FAULTS and not polling:
            return False
        same_advertiser = self.advertiser_id in (None, target.advertiser_id)
        return same_advertiser and self.region in (None, target.region)


@dataclass(frozen=True)
class Outgoing:
    """One lead webhook POST, kept so that it can be sent again byte for byte."""

    subscription_id: str
    url: str
    lead_ids: tuple[str, ...]
    body: bytes


@dataclass(frozen=True)
class LeadDelivery:
    subscription_id: str
    url: str
    lead_ids: tuple[str, ...]
    status_code: int | None
    error: str | None
    redelivery: bool = False


def _new_id(prefix: int) -> str:
    return str(prefix * 10**18 + secrets.randbelow(10**18))


@dataclass
class BusinessWorld:
    config: EmulatorConfig
    now: Callable[[], float]
    advertisers: dict[str, FakeAdvertiser] = field(default_factory=dict)
    forms: dict[str, FakeForm] = field(default_factory=dict)
    leads: dict[str, FakeLead] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    grants: dict[str, AccessGrant] = field(default_factory=dict)
    refresh_grants: dict[str, RefreshGrant] = field(default_factory=dict)
    tasks: dict[str, ExportTask] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    faults: list[BusinessFault] = field(default_factory=list)
    # What the last lead event sent (for redelivery), and every delivery's outcome.
    last_outgoing: list[Outgoing] = field(default_factory=list)
    deliveries: list[LeadDelivery] = field(default_factory=list)
    # How lead webhooks are signed now (from the config; changed by the control API).
    lead_signature: LeadSignature = field(init=False)
    lead_signature_form: LeadSignatureForm = field(init=False)
    # Which token model new grants follow, and their lifetimes (changed by the control API).
    token_model: TokenModel = field(init=False)
    access_token_ttl: int = field(init=False)
    refresh_token_ttl: int = field(init=False)
    # The most forms one page/get answer holds, whatever page_size asks.
    forms_page_size: int = field(init=False)
    # The share of leads whose webhook TikTok never sends (control API), what builds up to
    # the next drop, and the leads dropped so far (in order).
    webhook_drop_share: float = 0.0
    _drop_credit: float = 0.0
    dropped_lead_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lead_signature = self.config.lead_signature
        self.lead_signature_form = self.config.lead_signature_form
        self.token_model = self.config.business_token_model
        self.access_token_ttl = self.config.business_access_token_ttl
        self.refresh_token_ttl = self.config.business_refresh_token_ttl
        self.forms_page_size = self.config.business_forms_page_size
        self.replace_advertisers(SEED_ADVERTISERS)
        self.leads = {lead.lead_id: lead for lead in seed_leads(SEED_ADVERTISERS)}

    def replace_advertisers(self, advertisers: Sequence[FakeAdvertiser]) -> None:
        """These advertisers and their forms instead of the current ones, with no leads;
        codes, tokens and subscriptions already issued stay as they are."""
        self.advertisers = {a.advertiser_id: a for a in advertisers}
        self.forms = {f.page_id: f for a in advertisers for f in a.forms}
        self.leads = {}

    # --- app credentials, codes and tokens --------------------------------------------------

    def authenticate_app(self, app_id: object, secret: object) -> None:
        if not isinstance(app_id, str) or not isinstance(secret, str) or not app_id or not secret:
            raise BusinessError(BAD_PARAMS, "app_id and secret are required.")
        id_ok = hmac.compare_digest(app_id.encode(), self.config.business_app_id.encode())
        secret_ok = hmac.compare_digest(secret.encode(), self.config.business_secret.encode())
        if not (id_ok and secret_ok):
            raise BusinessError(BAD_PARAMS, "app_id or secret is invalid.")

    def issue_code(self, redirect_uri: str, advertiser_ids: tuple[str, ...]) -> str:
        value = secrets.token_hex(20)
        self.codes[value] = AuthCode(
            value=value,
            redirect_uri=redirect_uri,
            advertiser_ids=advertiser_ids,
            expires_at=self.now() + BUSINESS_CODE_TTL_SECONDS,
        )
        return value

    def exchange(self, auth_code: object) -> IssuedPair:
        if not isinstance(auth_code, str) or not auth_code:
            raise BusinessError(BAD_PARAMS, "auth_code is required.")
        code = self.codes.get(auth_code)
        if code is None:
            raise BusinessError(BAD_PARAMS, "auth_code is invalid.")
        if code.used:
            raise BusinessError(BAD_PARAMS, "auth_code has already been used.")
        if self.now() >= code.expires_at:
            raise BusinessError(BAD_PARAMS, "auth_code has expired.")
        code.used = True
        return self._issue(code.advertiser_ids, secrets.token_hex(8), expiring=None)

    def refresh(self, refresh_token: object) -> IssuedPair:
        """A new pair for a live refresh token, which dies (rotation); a used, revoked or
        unknown one → 40105, an expired one → 40102."""
        if not isinstance(refresh_token, str) or not refresh_token:
            raise BusinessError(BAD_PARAMS, "refresh_token is required.")
        current = self.refresh_grants.get(refresh_token)
        if current is None or current.dead:
            raise BusinessError(INVALID_TOKEN, "Refresh token is invalid or has been used.")
        if self.now() >= current.expires_at:
            raise BusinessError(TOKEN_EXPIRED, "Refresh token has expired.")
        current.dead = True
        return self._issue(current.advertiser_ids, current.authorization, expiring=True)

    def _issue(
        self, advertiser_ids: tuple[str, ...], authorization: str, *, expiring: bool | None
    ) -> IssuedPair:
        """A new token (and refresh token when expiring; None: as the current model says)."""
        now = self.now()
        if expiring is None:
            expiring = self.token_model == "expiring"  # noqa: S105 - a model's name
        access = AccessGrant(
            token=secrets.token_hex(20),
            advertiser_ids=advertiser_ids,
            issued_at=now,
            authorization=authorization,
            expires_at=now + self.access_token_ttl if expiring else None,
        )
        self.grants[access.token] = access
        if not expiring:
            return IssuedPair(access, None)
        refresh = RefreshGrant(
            token=secrets.token_hex(24),
            advertiser_ids=advertiser_ids,
            authorization=authorization,
            expires_at=now + self.refresh_token_ttl,
        )
        self.refresh_grants[refresh.token] = refresh
        return IssuedPair(access, refresh)

    def grant(self, token: str | None) -> AccessGrant:
        """The live grant of an `Access-Token`; unknown or revoked → 40105, expired → 40102."""
        found = self.grants.get(token or "")
        if found is None or found.revoked:
            raise BusinessError(INVALID_TOKEN, "Access token is invalid or has been revoked.")
        if found.expires_at is not None and self.now() >= found.expires_at:
            raise BusinessError(TOKEN_EXPIRED, "Access token has expired.")
        return found

    def is_usable(self, grant: AccessGrant) -> bool:
        return not grant.revoked and (grant.expires_at is None or self.now() < grant.expires_at)

    def revoke(self, token: object) -> None:
        if not isinstance(token, str) or not token:
            raise BusinessError(BAD_PARAMS, "access_token is required.")
        self._revoke_authorization(self.grant(token).authorization)

    def revoke_advertiser(self, advertiser_id: str) -> int:
        """The advertiser removes the app in TikTok: every token covering it dies; how many
        live access tokens died."""
        revoked = sum(
            1
            for grant in self.grants.values()
            if advertiser_id in grant.advertiser_ids and self.is_usable(grant)
        )
        authorizations = {
            grant.authorization
            for grant in self.grants.values()
            if advertiser_id in grant.advertiser_ids
        }
        for authorization in authorizations:
            self._revoke_authorization(authorization)
        return revoked

    def _revoke_authorization(self, authorization: str) -> None:
        for grant in self.grants.values():
            if grant.authorization == authorization:
                grant.revoked = True
        for refresh in self.refresh_grants.values():
            if refresh.authorization == authorization:
                refresh.dead = True

    # --- advertisers and forms --------------------------------------------------------------

    def advertiser(self, grant: AccessGrant, advertiser_id: str) -> FakeAdvertiser:
        found = self.advertisers.get(advertiser_id)
        if found is None or advertiser_id not in grant.advertiser_ids:
            raise BusinessError(NO_PERMISSION, "No permission to operate this advertiser.")
        return found

    def form(self, advertiser: FakeAdvertiser, page_id: str) -> FakeForm:
        found = self.forms.get(page_id)
        if found is None or found.advertiser_id != advertiser.advertiser_id:
            raise BusinessError(BAD_PARAMS, "page_id does not exist for this advertiser.")
        return found

    # --- export tasks -----------------------------------------------------------------------

    def create_task(self, form: FakeForm, region: Region | None) -> ExportTask:
        task = ExportTask(
            task_id=_new_id(7),
            advertiser_id=form.advertiser_id,
            page_id=form.page_id,
            region=region,
        )
        self.tasks[task.task_id] = task
        return task

    def task(self, advertiser_id: str, task_id: str, region: Region | None) -> ExportTask:
        found = self.tasks.get(task_id)
        # A task lives in the region it was created for: asking elsewhere does not find it.
        if found is None or found.advertiser_id != advertiser_id or found.region != region:
            raise BusinessError(BAD_PARAMS, "task_id does not exist (check x-lead-region).")
        return found

    def poll(self, task: ExportTask, *, fault: BusinessFaultKind | None = None) -> TaskStatus:
        """One status poll: the next step, or what a task fault makes of it (task_failed:
        FAILED; task_stalled: no step)."""
        if fault == "task_failed" and task.status != "SUCCEED":
            task.status = "FAILED"
        elif fault != "task_stalled" and task.status in ("CREATED", "RUNNING"):
            task.polls += 1
            task.status = _PROGRESS[min(task.polls, len(_PROGRESS)) - 1]
            if task.status == "SUCCEED":
                self._build_file(task)
        return task.status

    def download(self, task: ExportTask) -> ExportTask:
        if task.status == "FAILED":
            raise BusinessError(BAD_PARAMS, "The task failed; create a new one.")
        if task.status != "SUCCEED" or task.succeeded_at is None:
            raise BusinessError(BAD_PARAMS, "The task has not finished yet.")
        if self.now() >= task.succeeded_at + EXPORT_DOWNLOAD_TTL_SECONDS:
            raise BusinessError(BAD_PARAMS, "The download link has expired; create a new task.")
        return task

    def _build_file(self, task: ExportTask) -> None:
        form = self.forms[task.page_id]
        leads = sorted(
            (
                lead
                for lead in self.leads.values()
                if lead.page_id == task.page_id and lead.region == task.region
            ),
            key=lambda lead: lead.create_time,
            reverse=True,
        )
        task.file, task.is_zip = export_file(
            task.task_id, form, leads, self.config.export_zip_threshold_bytes
        )
        task.succeeded_at = self.now()

    # --- subscriptions ----------------------------------------------------------------------

    def subscribe(
        self, grant: AccessGrant, advertiser_id: str, page_id: str | None, callback_url: str
    ) -> Subscription:
        for existing in self.live_subscriptions(advertiser_id):
            same_target = (existing.page_id, existing.callback_url) == (page_id, callback_url)
            if same_target and existing.token == grant.token:
                return existing
        subscription = Subscription(
            subscription_id=_new_id(7),
            token=grant.token,
            advertiser_id=advertiser_id,
            page_id=page_id,
            callback_url=callback_url,
            created_at=self.now(),
        )
        self.subscriptions[subscription.subscription_id] = subscription
        return subscription

    def is_live(self, subscription: Subscription) -> bool:
        grant = self.grants.get(subscription.token)
        gone = subscription.removed or subscription.dropped
        return not gone and grant is not None and not grant.revoked

    def live_subscriptions(self, advertiser_id: str | None = None) -> list[Subscription]:
        return [
            s
            for s in self.subscriptions.values()
            if self.is_live(s) and advertiser_id in (None, s.advertiser_id)
        ]

    def unsubscribe(self, subscription_id: str) -> None:
        found = self.subscriptions.get(subscription_id)
        if found is None:
            raise BusinessError(BAD_PARAMS, "subscription_id does not exist.")
        found.removed = True

    def drop(self, subscription_id: str) -> bool:
        """TikTok stops a subscription without telling anyone; False when there is none."""
        found = self.subscriptions.get(subscription_id)
        if found is not None:
            found.dropped = True
        return found is not None

    def targets(self, lead: FakeLead) -> list[Subscription]:
        """The live subscriptions a lead is delivered to: its advertiser, and its form if named."""
        return [
            s
            for s in self.live_subscriptions(lead.advertiser_id)
            if s.page_id in (None, lead.page_id)
        ]

    def set_drop_share(self, share: float) -> None:
        self.webhook_drop_share = share
        self._drop_credit = 0.0

    def drop_some(self, leads: Sequence[FakeLead]) -> list[FakeLead]:
        """The leads whose webhooks are sent: of those with a live subscription, the
        `webhook_drop_share` is dropped (never sent, remembered in `dropped_lead_ids`).
        Deterministic: each lead adds the share to a credit and is dropped once it reaches
        1, so 20% drops exactly one lead in five."""
        kept = []
        for lead in leads:
            if self.webhook_drop_share > 0 and self.targets(lead):
                self._drop_credit += self.webhook_drop_share
                if self._drop_credit >= 1.0 - 1e-9:
                    self._drop_credit -= 1.0
                    self.dropped_lead_ids.append(lead.lead_id)
                    continue
            kept.append(lead)
        return kept

    # --- leads ------------------------------------------------------------------------------

    def add_lead(
        self,
        form: FakeForm,
        *,
        region: Region | None,
        test: bool = False,
        name: str | None = None,
        chosen: Mapping[str, str] | None = None,
    ) -> FakeLead:
        """A new lead with generated answers; `name`, when given, is its `name` answer, and
        `chosen` gives the answers of the questions it names (by `field`)."""
        lead_id = random_lead_id()
        while lead_id in self.leads:
            lead_id = random_lead_id()
        overrides = dict(chosen or {}) | ({"name": name} if name is not None else {})
        given = tuple(
            overrides.get(question.field, answer)
            for question, answer in zip(
                form.questions, answers(form, random_variant()), strict=True
            )
        )
        lead = FakeLead(
            lead_id=lead_id,
            page_id=form.page_id,
            advertiser_id=form.advertiser_id,
            create_time=int(self.now()),
            region=region,
            answers=given,
            ad=NO_AD if test else form.ad,
            test=test,
        )
        self.leads[lead_id] = lead
        return lead

    def test_lead(self, form: FakeForm) -> FakeLead | None:
        return next(
            (lead for lead in self.leads.values() if lead.page_id == form.page_id and lead.test),
            None,
        )

    def delete_test_lead(self, form: FakeForm) -> bool:
        existing = self.test_lead(form)
        if existing is not None:
            del self.leads[existing.lead_id]
        return existing is not None

    # --- faults -----------------------------------------------------------------------------

    def take_fault(
        self, endpoint: BusinessEndpoint, target: FaultTarget, *, polling: bool = False
    ) -> BusinessFault | None:
        """The next fault for this request; task faults only hit export status polls."""
        return take_next(
            self.faults, endpoint, eligible=lambda fault: fault.matches(target, polling=polling)
        )
