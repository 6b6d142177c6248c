"""Every table, imported in one place so Alembic and `create_all` see the whole schema."""

from app.accounts.models import IntegrationAccount
from app.ads.models import AdvertiserSubscriptionCheck, BackfillJob
from app.audit.models import IntegrationLog
from app.core.db import Base
from app.events.models import Event
from app.leads.models import (
    CrmDelivery,
    Lead,
    TikTokAdvertiser,
)
from app.oauth.models import ConsumedOAuthState
from app.profile.models import StatsSnapshot
from app.webhooks.models import InboxEntry, LeadWebhookDelivery, TikTokWebhookEvent

__all__ = [
    "AdvertiserSubscriptionCheck",
    "BackfillJob",
    "Base",
    "ConsumedOAuthState",
    "CrmDelivery",
    "Event",
    "InboxEntry",
    "IntegrationAccount",
    "IntegrationLog",
    "Lead",
    "LeadWebhookDelivery",
    "StatsSnapshot",
    "TikTokAdvertiser",
    "TikTokWebhookEvent",
]
