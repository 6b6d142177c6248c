"""TikTok for Business (lead ads): connecting advertisers, their lead webhook subscriptions
(created at connect, re-created by a checker when TikTok drops them), their Instant Forms,
and the backfill that recovers missed leads from TikTok's lead export."""
