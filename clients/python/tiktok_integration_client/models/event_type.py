from enum import StrEnum


class EventType(StrEnum):
    ACCOUNT_CONNECTED = "account.connected"
    ACCOUNT_DELETED = "account.deleted"
    ACCOUNT_DISCONNECTED = "account.disconnected"
    ACCOUNT_REAUTH_REQUIRED = "account.reauth_required"
    LEADS_SUBSCRIPTION_LOST = "leads.subscription_lost"
    LEADS_SUBSCRIPTION_RESTORED = "leads.subscription_restored"
    LEAD_CREATED = "lead.created"

    def __str__(self) -> str:
        return str(self.value)
