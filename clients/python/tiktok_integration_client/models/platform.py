from enum import StrEnum


class Platform(StrEnum):
    TIKTOK = "tiktok"
    TIKTOK_ADS = "tiktok_ads"

    def __str__(self) -> str:
        return str(self.value)
