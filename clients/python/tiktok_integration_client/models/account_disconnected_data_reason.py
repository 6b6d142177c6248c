from enum import StrEnum


class AccountDisconnectedDataReason(StrEnum):
    DELETED = "deleted"
    TIKTOK_REVOKED = "tiktok_revoked"
    USER = "user"

    def __str__(self) -> str:
        return str(self.value)
