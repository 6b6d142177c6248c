"""The emulator's in-memory world: users, videos, grants, faults, rate windows, counters."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from collections.abc import Callable

from tiktok_emulator.business_state import BusinessWorld
from tiktok_emulator.config import EmulatorConfig
from tiktok_emulator.faults import FaultQueue, RateLimiter
from tiktok_emulator.grants import GrantStore
from tiktok_emulator.seed import SEED_USERS, FakeUser, FakeVideo, seed_videos

# Reported by /_control/stats even before the first request, so tests can read them as ints.
STAT_KEYS: tuple[str, ...] = (
    "authorize",
    "authorize.approve",
    "authorize.deny",
    "token.authorization_code",
    "token.refresh_token",
    "token.other",
    "revoke",
    "user_info",
    "video_list",
    "video_query",
)


class EmulatorState:
    """Lives on `app.state.emulator`. Replace `clock` (or call `advance`) to move time."""

    def __init__(self, config: EmulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.users: dict[str, FakeUser] = {user.open_id: user for user in SEED_USERS}
        self.videos: dict[str, tuple[FakeVideo, ...]] = {
            user.open_id: seed_videos(index, user, config.videos_per_user)
            for index, user in enumerate(SEED_USERS)
        }
        self.videos_by_id: dict[str, FakeVideo] = {
            video.id: video for videos in self.videos.values() for video in videos
        }
        self.reset()

    def reset(self) -> None:
        """Forget every code, token, fault, rate window, counter and clock offset."""
        self.offset = 0.0
        self.grants = GrantStore(self.config, self.now)
        self.faults = FaultQueue()
        self.limiter = RateLimiter(self.config.rate_limit_per_minute)
        self.stats: Counter[str] = Counter(dict.fromkeys(STAT_KEYS, 0))
        # TikTok for Business: advertisers, tokens, export tasks, subscriptions, leads.
        self.business = BusinessWorld(self.config, self.now)

    def now(self) -> float:
        return self.clock() + self.offset

    def advance(self, seconds: float) -> float:
        self.offset += seconds
        return self.now()

    def count(self, key: str) -> None:
        self.stats[key] += 1

    def log_id(self) -> str:
        """TikTok-style log id: UTC timestamp then random hex."""
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.now()))
        return stamp + secrets.token_hex(10).upper()
