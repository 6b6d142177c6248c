"""Every table, imported in one place so Alembic and `create_all` see the whole schema."""

from app.accounts.models import IntegrationAccount
from app.ads.models import BackfillJob, Reconciliation
from app.advertisers.models import TikTokAdvertiser
from app.audit.models import IntegrationLog
from app.core.db import Base
from app.events.models import CrmDelivery, Event
from app.idempotency.models import IdempotencyKey
from app.leads.models import Lead, LeadProbe
from app.oauth.models import ConsumedOAuthState
from app.profile.models import StatsSnapshot
from app.webhooks.models import InboxEntry, LeadWebhookDelivery, TikTokWebhookEvent

__all__ = [
    "BackfillJob",
    "Base",
    "ConsumedOAuthState",
    "CrmDelivery",
    "Event",
    "IdempotencyKey",
    "InboxEntry",
    "IntegrationAccount",
    "IntegrationLog",
    "Lead",
    "LeadProbe",
    "LeadWebhookDelivery",
    "Reconciliation",
    "StatsSnapshot",
    "TikTokAdvertiser",
    "TikTokWebhookEvent",
]
