"""TikTok for Business advertisers: which company connected each one (and so owns its
leads), and its lead webhook subscription, kept alive by a checker. Below `leads` and `ads`,
which both import it; it imports neither."""
