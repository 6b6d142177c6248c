"""The emulator's deterministic fake TikTok users and their public videos."""

from __future__ import annotations

from dataclasses import dataclass

# Newest video of every user; fixed so that ids, times and pages never change between runs.
_NEWEST_VIDEO_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z
# Real video ids are 19-digit integers (beyond 2**53): clients must keep them as strings.
_VIDEO_ID_BASE = 7_400_000_000_000_000_000


@dataclass(frozen=True)
class FakeUser:
    open_id: str
    union_id: str
    display_name: str
    username: str
    bio: str
    is_verified: bool
    follower_count: int
    following_count: int
    likes_count: int
    color: str


@dataclass(frozen=True)
class FakeVideo:
    id: str
    open_id: str
    create_time: int
    title: str
    description: str
    duration: int
    height: int
    width: int
    like_count: int
    comment_count: int
    share_count: int
    view_count: int


SEED_USERS: tuple[FakeUser, ...] = (
    FakeUser(
        open_id="-000a1b2c3d4e5f60718293a4b5c6d7e8f9",
        union_id="c0ffee00-0000-4000-8000-00000000a001",
        display_name="Ada Sandbox",
        username="ada.sandbox",
        bio="Verified creator. Cooking, travel and a lot of test data.",
        is_verified=True,
        follower_count=1_204_331,
        following_count=312,
        likes_count=48_912_004,
        color="#fe2c55",
    ),
    FakeUser(
        open_id="-000b2c3d4e5f60718293a4b5c6d7e8f9a0",
        union_id="c0ffee00-0000-4000-8000-00000000b002",
        display_name="Bao Tester",
        username="bao_tests",
        bio="Small business, big dreams. DMs open.",
        is_verified=False,
        follower_count=5_420,
        following_count=1_010,
        likes_count=73_115,
        color="#25f4ee",
    ),
    FakeUser(
        open_id="-000c3d4e5f60718293a4b5c6d7e8f9a0b1",
        union_id="c0ffee00-0000-4000-8000-00000000c003",
        display_name="Chidi Fixture",
        username="chidi.fixture",
        bio="",
        is_verified=False,
        follower_count=87,
        following_count=45,
        likes_count=301,
        color="#7b61ff",
    ),
    FakeUser(
        open_id="-000d4e5f60718293a4b5c6d7e8f9a0b1c2",
        union_id="c0ffee00-0000-4000-8000-00000000d004",
        display_name="Zoë Ñandú 🦊",
        username="zoe_nandu",
        bio='Unicode, "quotes" & <angle brackets> in a bio: render me safely.',
        is_verified=False,
        follower_count=0,
        following_count=0,
        likes_count=0,
        color="#ffb800",
    ),
)


def seed_videos(user_index: int, user: FakeUser, count: int) -> tuple[FakeVideo, ...]:
    """`count` public videos of a user, newest first, one every ~day with jitter."""
    videos = []
    for i in range(count):
        # Jitter stays within ±1 h so create_time strictly decreases with i.
        jitter = (i * 7919 + user_index * 104_729) % 7200 - 3600
        n = i + 1
        videos.append(
            FakeVideo(
                id=str(_VIDEO_ID_BASE + user_index * 1_000_000_007 + i * 9_973),
                open_id=user.open_id,
                create_time=_NEWEST_VIDEO_TIME - user_index * 1800 - i * 86_400 + jitter,
                title=f"{user.display_name} #{count - i}",
                description=f"Sandbox video {count - i} by @{user.username} #sandbox #tiktok",
                duration=5 + (n * 13) % 175,
                height=1920 if n % 4 else 1280,
                width=1080 if n % 4 else 720,
                like_count=(n * 1_337 + user_index * 71) % 250_000,
                comment_count=(n * 97) % 5_000,
                share_count=(n * 31) % 2_000,
                view_count=(n * 48_271 + user_index * 11) % 9_000_000 + 100,
            )
        )
    return tuple(videos)
