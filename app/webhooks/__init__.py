"""TikTok's Login Kit / developer-portal webhooks: verified, stored once, processed once."""
