/**
 * The CRM's calls to the TikTok integration service, typed by `schema.ts`.
 *
 * `schema.ts` is generated from the service's openapi.json (`make clients`); this file is
 * the only hand-written part. It is written against paths, never operation ids, so that
 * renaming operations needs nothing but a regeneration. The browser-only OAuth hops,
 * TikTok's webhook receivers and the operations endpoints are not in the generated schema.
 *
 * Every call resolves with the answer's JSON, or throws an `IntegrationApiError` carrying
 * the documented error body (`{"error": {"code", "message", "details"}}`). `client.raw`
 * is the underlying openapi-fetch client, for any other route: it *returns*
 * `{ data, error, response }` with `error` typed by the schema instead of throwing.
 */
import createClient, {
  type Client,
  type ClientOptions,
  type Middleware,
} from "openapi-fetch";

import type { components, paths, webhooks } from "./schema.js";

export type { components, paths, webhooks };

// ---------------------------------------------------------------------------------------
// Routes the wrapper calls. A route that disappears from the spec fails `tsc`.

const ACCOUNTS = "/api/integrations/accounts/";
const ACCOUNT = "/api/integrations/accounts/{account_id}/";
const CONNECT = "/api/integrations/accounts/{account_id}/connect/";
const DISCONNECT = "/api/integrations/accounts/{account_id}/disconnect/";
const SYNC = "/api/integrations/accounts/{account_id}/sync/";
const PROFILE = "/api/integrations/accounts/{account_id}/tiktok-profile/";
const VIDEOS = "/api/integrations/accounts/{account_id}/tiktok-videos/";
const LEADS = "/api/integrations/leads/";
const LEAD = "/api/integrations/leads/{lead_id}/";
const EVENTS = "/api/integrations/events/";
const EVENT_DELIVERIES = "/api/integrations/events/deliveries/";
const RECOVER = "/api/integrations/events/deliveries/recover/";

// ---------------------------------------------------------------------------------------
// Types, derived from the paths (not from schema or operation names).

/** The openapi-fetch client of the whole (client-facing) API. */
export type RawClient = Client<paths>;

type Method = "get" | "post" | "patch" | "put" | "delete";
type Json<Content> = Content extends { content: { "application/json": infer Body } } ? Body : never;
type Query<Operation> = Operation extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type RequestJson<Operation> = Operation extends { requestBody?: infer Body }
  ? Json<NonNullable<Body>>
  : never;
type Success<Operation> = Operation extends { responses: infer Responses }
  ? {
      [Status in keyof Responses]: Status extends 200 | 201 | 202 | 203 | 206 | "2XX"
        ? Json<Responses[Status]>
        : never;
    }[keyof Responses]
  : never;
type Data<Path extends keyof paths, M extends Method> = Success<paths[Path][M]>;

/** Every error answer of the service. */
export type ErrorResponse = components["schemas"]["ErrorResponse"];
/** `{code, message, details}`: `code` is stable, switch on it. */
export type ErrorBody = ErrorResponse["error"];
export type ErrorCode = ErrorBody["code"];
export type ErrorDetails = ErrorBody["details"];

export type Account = Data<typeof ACCOUNT, "get">;
export type AccountPage = Data<typeof ACCOUNTS, "get">;
export type AccountListQuery = Query<paths[typeof ACCOUNTS]["get"]>;
export type AccountCreate = RequestJson<paths[typeof ACCOUNTS]["post"]>;
export type ConnectResult = Data<typeof CONNECT, "post">;
/** The connect request body, once the service declares one (`never` before). */
export type ConnectOptions = RequestJson<paths[typeof CONNECT]["post"]>;
export type TikTokProfile = Data<typeof PROFILE, "get">;
export type TikTokProfileQuery = Query<paths[typeof PROFILE]["get"]>;
export type TikTokVideoPage = Data<typeof VIDEOS, "get">;
export type TikTokVideosQuery = Query<paths[typeof VIDEOS]["get"]>;
export type LeadPage = Data<typeof LEADS, "get">;
export type LeadListQuery = Query<paths[typeof LEADS]["get"]>;
export type Lead = Data<typeof LEAD, "get">;
export type EventFeed = Data<typeof EVENTS, "get">;
export type EventFeedQuery = Query<paths[typeof EVENTS]["get"]>;
export type EventDeliveryPage = Data<typeof EVENT_DELIVERIES, "get">;
export type EventDeliveryQuery = Query<paths[typeof EVENT_DELIVERIES]["get"]>;
export type RecoverRequest = RequestJson<paths[typeof RECOVER]["post"]>;
export type RecoverResult = Data<typeof RECOVER, "post">;

/** Names of the events the service sends to the CRM (OpenAPI `webhooks`). */
export type WebhookEventName = keyof webhooks & string;
/** The JSON payload of one event the service sends to the CRM. */
export type WebhookPayload<Name extends WebhookEventName> = RequestJson<
  NonNullable<webhooks[Name]["post"]>
>;

// ---------------------------------------------------------------------------------------
// Errors

function isErrorResponse(body: unknown): body is ErrorResponse {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error: unknown = body.error;
  return (
    typeof error === "object" &&
    error !== null &&
    "code" in error &&
    typeof error.code === "string" &&
    "message" in error &&
    typeof error.message === "string"
  );
}

/** A non-2xx answer. `body` is the documented error body, or undefined when the answer was
 * something else (a proxy's HTML page, say); `requestId` is the service's X-Request-ID. */
export class IntegrationApiError extends Error {
  override readonly name = "IntegrationApiError";
  readonly status: number;
  readonly body: ErrorResponse | undefined;
  readonly code: ErrorCode | undefined;
  readonly details: ErrorDetails | undefined;
  readonly requestId: string | null;
  readonly response: Response;

  constructor(response: Response, body: unknown) {
    const error = isErrorResponse(body) ? body : undefined;
    super(error?.error.message ?? `HTTP ${response.status} ${response.statusText}`.trim());
    this.status = response.status;
    this.body = error;
    this.code = error?.error.code;
    this.details = error?.error.details;
    this.requestId = response.headers.get("X-Request-ID");
    this.response = response;
  }
}

export function isIntegrationApiError(value: unknown): value is IntegrationApiError {
  return value instanceof IntegrationApiError;
}

async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new IntegrationApiError(response, error);
  return data as T;
}

// ---------------------------------------------------------------------------------------
// The client

/** How the client authenticates: a CRM user's JWT, or an internal service's key. */
export type Auth =
  | {
      /** The JWT issued by the CRM, or a function returning a fresh one for each request. */
      bearerToken: string | (() => string | Promise<string>);
    }
  | {
      /** A key of the service's SERVICE_API_KEYS, acting for one company. */
      serviceKey: string;
      companyId: string;
    };

export interface TikTokIntegrationClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The service's origin, e.g. `https://tiktok-integration.example.com`. */
  baseUrl: string;
  auth?: Auth;
}

/** Per-call options: an AbortSignal, extra headers (an Idempotency-Key, say). */
export interface CallOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

function authMiddleware(auth: Auth): Middleware {
  return {
    async onRequest({ request }) {
      if ("serviceKey" in auth) {
        request.headers.set("X-API-Key", auth.serviceKey);
        request.headers.set("X-Company-Id", auth.companyId);
      } else {
        const token =
          typeof auth.bearerToken === "function" ? await auth.bearerToken() : auth.bearerToken;
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
}

export interface TikTokIntegrationClient {
  /** The generated openapi-fetch client: every client-facing route, errors returned. */
  readonly raw: RawClient;
  getConnectedAccounts(query?: AccountListQuery, options?: CallOptions): Promise<AccountPage>;
  getConnectedAccount(accountId: string, options?: CallOptions): Promise<Account>;
  createConnectedAccount(account: AccountCreate, options?: CallOptions): Promise<Account>;
  deleteConnectedAccount(accountId: string, options?: CallOptions): Promise<void>;
  /** Starts OAuth: navigate the browser to `authorization_url`. */
  connectIntegrationAccount(
    accountId: string,
    connect?: ConnectOptions,
    options?: CallOptions,
  ): Promise<ConnectResult>;
  disconnectIntegrationAccount(accountId: string, options?: CallOptions): Promise<Account>;
  syncIntegrationAccount(accountId: string, options?: CallOptions): Promise<TikTokProfile>;
  getTikTokProfile(
    accountId: string,
    query?: TikTokProfileQuery,
    options?: CallOptions,
  ): Promise<TikTokProfile>;
  getTikTokVideos(
    accountId: string,
    query?: TikTokVideosQuery,
    options?: CallOptions,
  ): Promise<TikTokVideoPage>;
  getLeads(query?: LeadListQuery, options?: CallOptions): Promise<LeadPage>;
  getLead(leadId: string, options?: CallOptions): Promise<Lead>;
  /** The company's events in commit order; pass `next_cursor` back as `after`. */
  getEvents(query?: EventFeedQuery, options?: CallOptions): Promise<EventFeed>;
  getEventDeliveries(
    query?: EventDeliveryQuery,
    options?: CallOptions,
  ): Promise<EventDeliveryPage>;
  /** Queue again every dead delivery of the company's events since `since`. */
  recoverEventDeliveries(body: RecoverRequest, options?: CallOptions): Promise<RecoverResult>;
}

export function createTikTokIntegrationClient(
  options: TikTokIntegrationClientOptions,
): TikTokIntegrationClient {
  const { auth, ...clientOptions } = options;
  const raw = createClient<paths>(clientOptions);
  if (auth) raw.use(authMiddleware(auth));
  const account = (accountId: string) => ({ path: { account_id: accountId } });

  return {
    raw,
    getConnectedAccounts: (query = {}, init = {}) =>
      unwrap(raw.GET(ACCOUNTS, { params: { query }, ...init })),
    getConnectedAccount: (accountId, init = {}) =>
      unwrap(raw.GET(ACCOUNT, { params: account(accountId), ...init })),
    createConnectedAccount: (body, init = {}) => unwrap(raw.POST(ACCOUNTS, { body, ...init })),
    deleteConnectedAccount: async (accountId, init = {}) => {
      await unwrap(raw.DELETE(ACCOUNT, { params: account(accountId), ...init }));
    },
    connectIntegrationAccount: (accountId, body, init = {}) =>
      unwrap(raw.POST(CONNECT, { params: account(accountId), body, ...init })),
    disconnectIntegrationAccount: (accountId, init = {}) =>
      unwrap(raw.POST(DISCONNECT, { params: account(accountId), ...init })),
    syncIntegrationAccount: (accountId, init = {}) =>
      unwrap(raw.POST(SYNC, { params: account(accountId), ...init })),
    getTikTokProfile: (accountId, query = {}, init = {}) =>
      unwrap(raw.GET(PROFILE, { params: { ...account(accountId), query }, ...init })),
    getTikTokVideos: (accountId, query = {}, init = {}) =>
      unwrap(raw.GET(VIDEOS, { params: { ...account(accountId), query }, ...init })),
    getLeads: (query = {}, init = {}) => unwrap(raw.GET(LEADS, { params: { query }, ...init })),
    getLead: (leadId, init = {}) =>
      unwrap(raw.GET(LEAD, { params: { path: { lead_id: leadId } }, ...init })),
    getEvents: (query = {}, init = {}) => unwrap(raw.GET(EVENTS, { params: { query }, ...init })),
    getEventDeliveries: (query = {}, init = {}) =>
      unwrap(raw.GET(EVENT_DELIVERIES, { params: { query }, ...init })),
    recoverEventDeliveries: (body, init = {}) => unwrap(raw.POST(RECOVER, { body, ...init })),
  };
}

export default createTikTokIntegrationClient;
