"""Events for the CRM: the outbox every lifecycle change and every new lead writes to."""
