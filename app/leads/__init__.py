"""TikTok for Business leads (Instant Forms): received by webhook, stored once per TikTok lead
id, attached to the company that owns the advertiser, served by a pull API and pushed to the
CRM by a signed, retried, durable outbox."""
