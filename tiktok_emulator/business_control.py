"""Control API for the TikTok for Business side (`/_control/business/...`).

Tests and developers set up the advertisers and their forms, create leads (delivered as
webhooks to live subscriptions), resend the last delivery, choose how lead webhooks are
signed (scheme, and raw or unicode-escaped payload), which token model new grants follow
(long-lived, or expiring with a refresh token) and how many forms a page holds, look at
subscriptions, advertisers and deliveries, drop a share of lead webhooks, revoke an
advertiser's tokens or drop a subscription from TikTok's side, and inject Marketing API
faults (for one advertiser or region if need be, before the endpoint runs or after it
acted). Ids are strings here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, BeforeValidator, Field

from tiktok_emulator.business_seed import (
    SEED_TIME,
    FakeAdvertiser,
    FakeForm,
    Language,
    Region,
    make_form,
)
from tiktok_emulator.business_state import (
    BusinessEndpoint,
    BusinessFault,
    BusinessFaultKind,
    BusinessWorld,
    LeadDelivery,
    LeadSignature,
    LeadSignatureForm,
    TokenModel,
)
from tiktok_emulator.business_webhooks import deliver_leads, send
from tiktok_emulator.deps import EmulatorDep

router = APIRouter(prefix="/_control/business", tags=["control: tiktok for business"])


def _int_to_str(value: object) -> object:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IdText = Annotated[str, BeforeValidator(_int_to_str)]


class LeadsSpec(BaseModel):
    advertiser_id: IdText | None = Field(None, description="Default: the form's, or the first")
    page_id: IdText | None = Field(None, description="Default: the advertiser's first form")
    count: int = Field(1, ge=1, le=5000)
    batch: bool = Field(True, description="One webhook for all leads, or one per lead")
    region: Literal["eu", "us"] | None = Field(
        None, description="Export region: such leads only export with x-lead-region"
    )
    deliver: bool = Field(True, description="Send webhooks to live subscriptions")
    name: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="The `name` answer of every new lead, in any script (Arabic, accented, "
        "emoji...); default: a generated name in the form's language",
    )
    answers: dict[str, Annotated[str, Field(max_length=255)]] | None = Field(
        None,
        description="Answers of every new lead by question field (`name`, `email`, "
        "`phone_number`, or a custom question's label); the others are generated",
    )


class SigningOut(BaseModel):
    lead_signature: LeadSignature
    signature_form: LeadSignatureForm


class SigningSpec(BaseModel):
    lead_signature: LeadSignature | None = Field(
        None,
        description="open: X-Open-Signature; tiktok: TikTok-Signature t=,s=; none: unsigned "
        "(the callback URL's token authenticates). Omitted: unchanged",
    )
    signature_form: LeadSignatureForm | None = Field(
        None,
        description="What the signature covers: raw, the body as sent; unicode_escaped, the "
        "body with non-ASCII characters as \\uXXXX (the body is sent as raw UTF-8 either "
        "way). Omitted: unchanged",
    )


class TokensOut(BaseModel):
    model: TokenModel
    expires_in: int
    refresh_expires_in: int


class TokensSpec(BaseModel):
    model: TokenModel | None = Field(
        None,
        description="long_lived: tokens never expire, no refresh token (TIKTOK_API.md §4); "
        "expiring: `expires_in` and a rotating refresh token, 40102 once expired (§5). "
        "Applies to tokens issued from now on. Omitted: unchanged",
    )
    expires_in: int | None = Field(
        None, ge=1, description="Access token lifetime (seconds) in the expiring model"
    )
    refresh_expires_in: int | None = Field(
        None, ge=1, description="Refresh token lifetime (seconds) in the expiring model"
    )


class DeliveryOut(BaseModel):
    subscription_id: str
    url: str
    lead_ids: list[str]
    status_code: int | None
    error: str | None
    redelivery: bool


class LeadsCreated(BaseModel):
    advertiser_id: str
    page_id: str
    lead_ids: list[str]
    deliveries: list[DeliveryOut]
    dropped: list[str] = Field(
        default_factory=list, description="Leads whose webhook was dropped (never sent)"
    )


class WebhooksOut(BaseModel):
    drop_share: float
    dropped_lead_ids: list[str] = Field(description="Every lead whose webhook was dropped")


class WebhooksSpec(BaseModel):
    drop_share: float = Field(
        ge=0.0,
        le=1.0,
        description="The share of new leads whose webhook TikTok never sends (0.2: one in "
        "five, deterministically), as when TikTok loses them; 0 sends every one",
    )


class Deliveries(BaseModel):
    deliveries: list[DeliveryOut]


class SubscriptionOut(BaseModel):
    subscription_id: str
    advertiser_id: str
    page_id: str | None
    callback_url: str
    live: bool
    unsubscribed: bool
    dropped: bool
    token_revoked: bool


class Subscriptions(BaseModel):
    subscriptions: list[SubscriptionOut]


class FormOut(BaseModel):
    page_id: str
    title: str
    language: str
    questions: list[str]
    leads: int
    test_lead_id: str | None


class AdvertiserOut(BaseModel):
    advertiser_id: str
    advertiser_name: str
    forms: list[FormOut]
    live_tokens: int


class Advertisers(BaseModel):
    advertisers: list[AdvertiserOut]


class FormSpec(BaseModel):
    page_id: IdText = Field(pattern=r"^[1-9][0-9]{0,18}$")
    title: str = Field(min_length=1, max_length=255)
    language: Language = Field("en", description="Of its questions and export columns")
    create_time: int = Field(SEED_TIME, ge=0, description="Epoch seconds")


class AdvertiserSpec(BaseModel):
    advertiser_id: IdText = Field(pattern=r"^[1-9][0-9]{0,18}$")
    advertiser_name: str = Field(min_length=1, max_length=255)
    forms: list[FormSpec] = Field(default_factory=list)


class AdvertisersSpec(BaseModel):
    advertisers: list[AdvertiserSpec] = Field(
        description="The advertisers TikTok offers on its consent page, in order (none: a "
        "user who manages no advertiser account)"
    )


class PagingOut(BaseModel):
    forms_page_size: int


class PagingSpec(BaseModel):
    forms_page_size: int = Field(
        ge=1,
        le=100,
        description="The most forms one page/get answer holds, whatever page_size asks",
    )


class SubscriptionDropped(BaseModel):
    subscription_id: str


class AdvertiserRevoked(BaseModel):
    advertiser_id: str
    revoked_tokens: int


class BusinessFaultSpec(BaseModel):
    endpoint: BusinessEndpoint | Literal["*"]
    kind: BusinessFaultKind = Field(
        description="error_code: HTTP 200 envelope with `code`; http_503: gateway page; "
        "garbage: truncated JSON; corrupt_file: a 200 body that is no JSON, CSV or zip (for "
        "lead_download); latency: delay; task_failed: the next export status poll turns the "
        "task FAILED; task_stalled: the next export status poll does not move the task on"
    )
    count: int = Field(1, ge=1)
    code: int = Field(40100, description="For error_code, e.g. 40100 rate limit, 40105, 50000")
    latency_ms: int = Field(0, ge=0, le=120_000)
    advertiser_id: IdText | None = Field(
        None, description="Only requests about this advertiser (query, body or subscription)"
    )
    region: Region | None = Field(None, description="Only requests with this x-lead-region")
    after: bool = Field(
        False,
        description="Strike after the endpoint acted: its effect stays (a subscription made, "
        "a token revoked), its answer is replaced, as when TikTok's answer is lost",
    )


class BusinessFaults(BaseModel):
    pending: list[BusinessFaultSpec]


class Cleared(BaseModel):
    cleared: int


def _out(delivery: LeadDelivery) -> DeliveryOut:
    return DeliveryOut(
        subscription_id=delivery.subscription_id,
        url=delivery.url,
        lead_ids=list(delivery.lead_ids),
        status_code=delivery.status_code,
        error=delivery.error,
        redelivery=delivery.redelivery,
    )


def _form_for(world: BusinessWorld, spec: LeadsSpec) -> FakeForm:
    if spec.page_id is not None:
        form = world.forms.get(spec.page_id)
        if form is None or spec.advertiser_id not in (None, form.advertiser_id):
            raise HTTPException(404, "No such form for this advertiser.")
        return form
    advertiser_id = spec.advertiser_id or next(iter(world.advertisers), None)
    advertiser = world.advertisers.get(advertiser_id or "")
    if advertiser is None or not advertiser.forms:
        raise HTTPException(404, "No such advertiser, or it has no form.")
    return advertiser.forms[0]


@router.post("/leads", status_code=201, name="business_create_leads")
async def create_leads(spec: LeadsSpec, emulator: EmulatorDep) -> LeadsCreated:
    """New leads on a form (unique ids, realistic answers), then their webhooks."""
    world = emulator.business
    form = _form_for(world, spec)
    asked = set(spec.answers or {})
    unknown = asked.difference(question.field for question in form.questions)
    if unknown:
        raise HTTPException(422, f"The form has no question {', '.join(sorted(unknown))}.")
    leads = [
        world.add_lead(form, region=spec.region, name=spec.name, chosen=spec.answers)
        for _ in range(spec.count)
    ]
    dropped_before = len(world.dropped_lead_ids)
    deliveries = await deliver_leads(world, leads, batch=spec.batch) if spec.deliver else []
    return LeadsCreated(
        advertiser_id=form.advertiser_id,
        page_id=form.page_id,
        lead_ids=[lead.lead_id for lead in leads],
        deliveries=[_out(delivery) for delivery in deliveries],
        dropped=world.dropped_lead_ids[dropped_before:],
    )


def _webhooks(world: BusinessWorld) -> WebhooksOut:
    return WebhooksOut(
        drop_share=world.webhook_drop_share, dropped_lead_ids=list(world.dropped_lead_ids)
    )


@router.get("/webhooks", name="business_webhooks")
async def webhooks(emulator: EmulatorDep) -> WebhooksOut:
    """The share of lead webhooks dropped, and the leads dropped so far."""
    return _webhooks(emulator.business)


@router.patch("/webhooks", name="business_set_webhooks")
async def set_webhooks(spec: WebhooksSpec, emulator: EmulatorDep) -> WebhooksOut:
    """Drop a share of the next leads' webhooks (never sent, not even redelivered): the
    leads TikTok holds and only its lead export gives back, so reconciliation has gaps to
    find; a reset sends every one again."""
    emulator.business.set_drop_share(spec.drop_share)
    return _webhooks(emulator.business)


@router.post("/deliveries/redeliver", name="business_redeliver")
async def redeliver(emulator: EmulatorDep) -> Deliveries:
    """Send the last lead event's webhooks again, byte for byte: a duplicate delivery."""
    world = emulator.business
    if not world.last_outgoing:
        raise HTTPException(404, "No lead webhook has been sent yet.")
    deliveries = await send(world, world.last_outgoing, redelivery=True)
    return Deliveries(deliveries=[_out(delivery) for delivery in deliveries])


def _signing(world: BusinessWorld) -> SigningOut:
    return SigningOut(lead_signature=world.lead_signature, signature_form=world.lead_signature_form)


@router.get("/signing", name="business_signing")
async def signing(emulator: EmulatorDep) -> SigningOut:
    """How lead webhooks are signed now."""
    return _signing(emulator.business)


@router.patch("/signing", name="business_set_signing")
async def set_signing(spec: SigningSpec, emulator: EmulatorDep) -> SigningOut:
    """Change how the next lead webhooks (redeliveries included) are signed; a reset goes
    back to the configured mode."""
    world = emulator.business
    if spec.lead_signature is not None:
        world.lead_signature = spec.lead_signature
    if spec.signature_form is not None:
        world.lead_signature_form = spec.signature_form
    return _signing(world)


def _tokens(world: BusinessWorld) -> TokensOut:
    return TokensOut(
        model=world.token_model,
        expires_in=world.access_token_ttl,
        refresh_expires_in=world.refresh_token_ttl,
    )


@router.get("/tokens", name="business_tokens")
async def tokens(emulator: EmulatorDep) -> TokensOut:
    """The token model new grants follow, and the lifetimes of expiring tokens."""
    return _tokens(emulator.business)


@router.patch("/tokens", name="business_set_tokens")
async def set_tokens(spec: TokensSpec, emulator: EmulatorDep) -> TokensOut:
    """Change the token model of the next grants (tokens already issued keep theirs; the
    emulator clock, `POST /_control/clock`, ages them); a reset goes back to the configured
    model."""
    world = emulator.business
    if spec.model is not None:
        world.token_model = spec.model
    if spec.expires_in is not None:
        world.access_token_ttl = spec.expires_in
    if spec.refresh_expires_in is not None:
        world.refresh_token_ttl = spec.refresh_expires_in
    return _tokens(world)


@router.get("/deliveries", name="business_deliveries")
async def deliveries(emulator: EmulatorDep) -> Deliveries:
    """Every lead webhook sent (the last 200), oldest first."""
    return Deliveries(deliveries=[_out(d) for d in emulator.business.deliveries])


@router.get("/subscriptions", name="business_list_subscriptions")
async def list_subscriptions(emulator: EmulatorDep) -> Subscriptions:
    """Every subscription ever made, dead ones included (TikTok's own listing hides them)."""
    world = emulator.business
    items = []
    for subscription in world.subscriptions.values():
        grant = world.grants.get(subscription.token)
        items.append(
            SubscriptionOut(
                subscription_id=subscription.subscription_id,
                advertiser_id=subscription.advertiser_id,
                page_id=subscription.page_id,
                callback_url=subscription.callback_url,
                live=world.is_live(subscription),
                unsubscribed=subscription.removed,
                dropped=subscription.dropped,
                token_revoked=grant is None or grant.revoked,
            )
        )
    return Subscriptions(subscriptions=items)


@router.post("/subscriptions/{subscription_id}/drop", name="business_drop_subscription")
async def drop_subscription(subscription_id: str, emulator: EmulatorDep) -> SubscriptionDropped:
    """TikTok stops a subscription silently: neither listed by subscription/get nor
    delivered to any more, and nobody is told (its token lives on)."""
    if not emulator.business.drop(subscription_id):
        raise HTTPException(404, "No such subscription.")
    return SubscriptionDropped(subscription_id=subscription_id)


@router.put("/advertisers", name="business_set_advertisers")
async def set_advertisers(spec: AdvertisersSpec, emulator: EmulatorDep) -> Advertisers:
    """Replace the fake advertisers and their forms (and forget every lead): the world a test
    or a demo needs. Codes, tokens and subscriptions already issued stay; a reset goes back
    to the seeded advertisers."""
    page_ids = [form.page_id for advertiser in spec.advertisers for form in advertiser.forms]
    advertiser_ids = [advertiser.advertiser_id for advertiser in spec.advertisers]
    if len(set(page_ids)) != len(page_ids) or len(set(advertiser_ids)) != len(advertiser_ids):
        raise HTTPException(422, "Advertiser and form ids must be unique.")
    emulator.business.replace_advertisers(
        [
            FakeAdvertiser(
                advertiser_id=advertiser.advertiser_id,
                advertiser_name=advertiser.advertiser_name,
                forms=tuple(
                    make_form(
                        advertiser.advertiser_id,
                        form.page_id,
                        form.title,
                        form.language,
                        form.create_time,
                    )
                    for form in advertiser.forms
                ),
            )
            for advertiser in spec.advertisers
        ]
    )
    return await list_advertisers(emulator)


@router.get("/paging", name="business_paging")
async def paging(emulator: EmulatorDep) -> PagingOut:
    return PagingOut(forms_page_size=emulator.business.forms_page_size)


@router.patch("/paging", name="business_set_paging")
async def set_paging(spec: PagingSpec, emulator: EmulatorDep) -> PagingOut:
    """Make page/get answer smaller pages than asked (clients must follow `total_page`); a
    reset goes back to the configured size."""
    emulator.business.forms_page_size = spec.forms_page_size
    return PagingOut(forms_page_size=spec.forms_page_size)


@router.get("/advertisers", name="business_list_advertisers")
async def list_advertisers(emulator: EmulatorDep) -> Advertisers:
    world = emulator.business
    items = []
    for advertiser in world.advertisers.values():
        forms = []
        for form in advertiser.forms:
            test_lead = world.test_lead(form)
            forms.append(
                FormOut(
                    page_id=form.page_id,
                    title=form.title,
                    language=form.language,
                    questions=[question.label for question in form.questions],
                    leads=sum(1 for lead in world.leads.values() if lead.page_id == form.page_id),
                    test_lead_id=test_lead.lead_id if test_lead else None,
                )
            )
        live_tokens = sum(
            1
            for grant in world.grants.values()
            if advertiser.advertiser_id in grant.advertiser_ids and world.is_usable(grant)
        )
        items.append(
            AdvertiserOut(
                advertiser_id=advertiser.advertiser_id,
                advertiser_name=advertiser.advertiser_name,
                forms=forms,
                live_tokens=live_tokens,
            )
        )
    return Advertisers(advertisers=items)


@router.post("/advertisers/{advertiser_id}/revoke", name="business_revoke_advertiser")
async def revoke_advertiser(advertiser_id: str, emulator: EmulatorDep) -> AdvertiserRevoked:
    """The advertiser removes the app in TikTok: its tokens and subscriptions die silently."""
    world = emulator.business
    if advertiser_id not in world.advertisers:
        raise HTTPException(404, "No such advertiser.")
    return AdvertiserRevoked(
        advertiser_id=advertiser_id, revoked_tokens=world.revoke_advertiser(advertiser_id)
    )


def _pending(world: BusinessWorld) -> BusinessFaults:
    return BusinessFaults(
        pending=[
            BusinessFaultSpec(
                endpoint=fault.endpoint,
                kind=fault.kind,
                count=fault.remaining,
                code=fault.code,
                latency_ms=fault.latency_ms,
                advertiser_id=fault.advertiser_id,
                region=fault.region,
                after=fault.after,
            )
            for fault in world.faults
        ]
    )


@router.get("/faults", name="business_list_faults")
async def list_faults(emulator: EmulatorDep) -> BusinessFaults:
    return _pending(emulator.business)


@router.post("/faults", status_code=201, name="business_add_fault")
async def add_fault(spec: BusinessFaultSpec, emulator: EmulatorDep) -> BusinessFaults:
    emulator.business.faults.append(
        BusinessFault(
            endpoint=spec.endpoint,
            kind=spec.kind,
            remaining=spec.count,
            code=spec.code,
            latency_ms=spec.latency_ms,
            advertiser_id=spec.advertiser_id,
            region=spec.region,
            after=spec.after,
        )
    )
    return _pending(emulator.business)


@router.delete("/faults", name="business_clear_faults")
async def clear_faults(emulator: EmulatorDep) -> Cleared:
    cleared = len(emulator.business.faults)
    emulator.business.faults.clear()
    return Cleared(cleared=cleared)
