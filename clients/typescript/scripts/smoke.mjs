// Uses the built package (npm run build) against a live service: create → list → connect URL,
// and a typed error. tests/test_clients.py runs it; by hand, against `make run`:
//
//   TOKEN=$(.venv/bin/python -m app token --company acme)
//   TIKTOK_INTEGRATION_URL=http://127.0.0.1:8000 TIKTOK_INTEGRATION_TOKEN=$TOKEN \
//     node clients/typescript/scripts/smoke.mjs
//
// Optional: TIKTOK_INTEGRATION_SERVICE_KEY with TIKTOK_INTEGRATION_COMPANY also lists the
// accounts as an internal service would. Prints one JSON line; exits non-zero on failure.
import assert from "node:assert/strict";

import {
  createTikTokIntegrationClient,
  IntegrationApiError,
} from "tiktok-integration-client";

const baseUrl = process.env.TIKTOK_INTEGRATION_URL ?? "http://127.0.0.1:8000";
const token = process.env.TIKTOK_INTEGRATION_TOKEN;
assert.ok(token, "set TIKTOK_INTEGRATION_TOKEN (python -m app token --company acme)");

const api = createTikTokIntegrationClient({ baseUrl, auth: { bearerToken: async () => token } });

const name = `Smoke ${new Date().toISOString()}`;
const created = await api.createConnectedAccount({ platform: "tiktok", name });
assert.equal(created.status, "pending");
assert.equal(created.name, name);

const page = await api.getConnectedAccounts({ platform: "tiktok" });
assert.ok(
  page.items.some((account) => account.id === created.id),
  "the new account is listed",
);

const { authorization_url: authorizationUrl, state } = await api.connectIntegrationAccount(
  created.id,
);
assert.ok(new URL(authorizationUrl).protocol.startsWith("http"), authorizationUrl);
assert.ok(state.length > 0);

let notFound;
try {
  await api.getConnectedAccount("00000000-0000-0000-0000-000000000000");
  assert.fail("a missing account must throw");
} catch (error) {
  assert.ok(error instanceof IntegrationApiError, String(error));
  notFound = error;
}
assert.equal(notFound.status, 404);
assert.equal(notFound.code, "account_not_found");

const { error: returned, response } = await api.raw.GET("/api/integrations/accounts/{account_id}/", {
  params: { path: { account_id: "00000000-0000-0000-0000-000000000000" } },
});
assert.equal(response.status, 404);
assert.equal(returned.error.code, "account_not_found");

// The event feed and the deliveries list answer for the company (empty or not).
const feed = await api.getEvents({ limit: 10 });
assert.ok(Array.isArray(feed.items) && typeof feed.has_more === "boolean");
const deliveries = await api.getEventDeliveries({ status: "dead" });
assert.ok(Array.isArray(deliveries.items));
const recovered = await api.recoverEventDeliveries({ since: "2026-01-01T00:00:00Z" });
assert.equal(typeof recovered.recovered, "number");

let serviceListed = null;
if (process.env.TIKTOK_INTEGRATION_SERVICE_KEY) {
  const service = createTikTokIntegrationClient({
    baseUrl,
    auth: {
      serviceKey: process.env.TIKTOK_INTEGRATION_SERVICE_KEY,
      companyId: process.env.TIKTOK_INTEGRATION_COMPANY ?? "acme",
    },
  });
  const seen = await service.getConnectedAccounts();
  serviceListed = seen.items.some((account) => account.id === created.id);
  assert.ok(serviceListed, "the service key sees the company's account");
}

console.log(
  JSON.stringify({
    created: created.id,
    listed: page.items.length,
    authorization_url: authorizationUrl,
    not_found: { status: notFound.status, code: notFound.code, request_id: notFound.requestId },
    service_listed: serviceListed,
  }),
);
