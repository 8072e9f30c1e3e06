/**
 * The typed API client: `api.GET("/api/chatbots")` etc., typed from the generated `schema.d.ts`
 * (`npm run gen:api`). `call()` turns the API's `{"error": {code, message, details}}` into an
 * `ApiError` whose message can be shown to a customer as it is.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Chatbot = Schemas["ChatbotOut"];
export type Document = Schemas["DocumentOut"];
export type Source = Schemas["SourceOut"];
export type Me = Schemas["MeOut"];

export interface ErrorDetail {
  field?: string;
  file?: string;
  message?: string;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

const TOKEN_KEY = "dashboard.token";

export const tokenStore = {
  get: (): string | null => localStorage.getItem(TOKEN_KEY),
  set: (token: string) => localStorage.setItem(TOKEN_KEY, token),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

/** Seconds since the epoch at which a JWT expires, or null when it cannot be read. */
export function tokenExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" ? payload.exp : null;
  } catch {
    return null;
  }
}

let unauthorized: () => void = () => {};
/** Called when a signed-in request answers 401: the session has ended. */
export function onUnauthorized(handler: () => void) {
  unauthorized = handler;
}

export function authHeaders(): Record<string, string> {
  const token = tokenStore.get();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

export const api = createClient<paths>({ baseUrl: "" });
api.use({
  onRequest({ request }) {
    for (const [name, value] of Object.entries(authHeaders())) request.headers.set(name, value);
    return request;
  },
});

const STATUS_WORDS: Record<number, string> = {
  401: "Please sign in again.",
  403: "Your role does not allow this. Ask an owner or admin of your account.",
  404: "This no longer exists. It may have been deleted.",
  413: "This file is too large.",
  429: "Too many requests. Wait a moment and try again.",
  500: "Something went wrong on our side. Try again in a moment.",
  502: "The language model did not answer. Try again in a moment.",
  503: "The service is busy. Try again in a moment.",
  504: "The language model took too long to answer. Try again.",
};

// pydantic's wording, said the way a customer would
const PHRASES: [RegExp, string][] = [
  [/^String should have at least (\d+) characters?$/, "must be at least $1 characters long"],
  [/^String should have at most (\d+) characters?$/, "must be at most $1 characters long"],
  [/^Input should be (?:less than or equal to|at most) (.+)$/, "must be at most $1"],
  [/^Input should be (?:greater than or equal to|at least) (.+)$/, "must be at least $1"],
  [/^value is not a valid email address.*$/, "is not a valid email address"],
  [/^Field required$/, "is required"],
  [/^Value error, /, ""],
];

function explainField(detail: ErrorDetail): string {
  let text = detail.message ?? "is not valid";
  for (const [pattern, replacement] of PHRASES) text = text.replace(pattern, replacement);
  const name = (detail.field ?? "").split(".").pop()!.replace(/_/g, " ");
  if (!name) return `${text}.`;
  const field = name[0].toUpperCase() + name.slice(1);
  return /^(must|is) /.test(text) ? `${field} ${text}.` : `${field}: ${text}.`;
}

/** Builds an ApiError from a failed response and its (possibly parsed) body. */
export function toApiError(response: Response, body: unknown): ApiError {
  const err = (body as { error?: { code?: string; message?: string; details?: unknown; request_id?: string } })
    ?.error;
  const details = Array.isArray(err?.details) ? (err.details as ErrorDetail[]) : [];
  let message = err?.message || STATUS_WORDS[response.status] || `Request failed (${response.status}).`;
  if (err?.code === "validation_error" && details.length) message = details.map(explainField).join(" ");
  // a reference our support can look up in the logs, for the errors that are ours
  if (response.status >= 500 && err?.request_id) message += ` (reference ${err.request_id})`;
  const signingIn = /\/auth\/(login|register|token)$/.test(new URL(response.url, location.href).pathname);
  if (response.status === 401 && !signingIn) unauthorized();
  return new ApiError(message, response.status, err?.code || "error", details);
}

export const NETWORK_ERROR = "Could not reach the server. Check your connection and try again.";

/** Awaits an openapi-fetch call and returns its data, or throws an ApiError. */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch {
    throw new ApiError(NETWORK_ERROR, 0, "network");
  }
  if (!result.response.ok) throw toApiError(result.response, result.error);
  return result.data as T;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
