from enum import StrEnum


class LeadSource(StrEnum):
    BACKFILL = "backfill"
    RECONCILIATION = "reconciliation"
    WEBHOOK = "webhook"

    def __str__(self) -> str:
        return str(self.value)
