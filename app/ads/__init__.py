"""TikTok for Business (lead ads) accounts: their advertisers' Instant Forms, and the backfill
that recovers missed leads from TikTok's lead export. The advertisers themselves and their
lead webhook subscriptions are `app.advertisers`'; connecting one is `app.oauth`'s."""
