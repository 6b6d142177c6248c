/**
 * Type-level tests, checked by `tsc --noEmit` (`make clients-check`), never run or built:
 * the wrapper's types must stay real types after a regeneration, not `any` or `never`.
 */
import {
  createTikTokIntegrationClient,
  IntegrationApiError,
  type Account,
  type AccountPage,
  type ConnectResult,
  type ErrorBody,
  type ErrorCode,
  type EventDeliveryPage,
  type EventFeed,
  type Lead,
  type LeadPage,
  type TikTokProfile,
  type TikTokVideoPage,
} from "../src/index.js";

type IsAny<T> = 0 extends 1 & T ? true : false;
type IsNever<T> = [T] extends [never] ? true : false;
type Real<T> = IsAny<T> extends true ? false : IsNever<T> extends true ? false : true;
function expectReal<T>(..._: Real<T> extends true ? [] : ["not a real type"]): void {}

expectReal<Account>();
expectReal<AccountPage>();
expectReal<ConnectResult>();
expectReal<TikTokProfile>();
expectReal<TikTokVideoPage>();
expectReal<LeadPage>();
expectReal<Lead>();
expectReal<ErrorBody>();
expectReal<ErrorCode>();
expectReal<EventFeed>();
expectReal<EventDeliveryPage>();

export async function usage(): Promise<string> {
  const api = createTikTokIntegrationClient({
    baseUrl: "http://127.0.0.1:8000",
    auth: { bearerToken: () => "jwt" },
  });
  const created = await api.createConnectedAccount({ platform: "tiktok", name: "Brand" });
  const page = await api.getConnectedAccounts({ platform: "tiktok", limit: 10 });
  const first: Account | undefined = page.items[0];
  const { authorization_url } = await api.connectIntegrationAccount(created.id);
  const videos = await api.getTikTokVideos(created.id, { max_count: 20 });
  const cursor: unknown = videos.cursor;
  // @ts-expect-error: platforms are an enum, not any string
  await api.createConnectedAccount({ platform: "instagram", name: "Brand" });
  // @ts-expect-error: unknown routes are not callable on the raw client
  await api.raw.GET("/api/integrations/nowhere/");
  // @ts-expect-error: TikTok's webhook receivers are left out of the client
  await api.raw.POST("/api/integrations/webhooks/tiktok/");
  const returned = await api.raw.GET("/api/integrations/accounts/{account_id}/", {
    params: { path: { account_id: created.id } },
  });
  if (returned.error) {
    const code: ErrorCode = returned.error.error.code;
    return code;
  }
  try {
    await api.getLead("missing");
  } catch (error) {
    if (error instanceof IntegrationApiError && error.code !== undefined) return error.code;
  }
  return `${first?.name ?? ""} ${authorization_url} ${String(cursor)}`;
}
