/** Sending requests: the key, timeouts, retries honouring Retry-After, errors per code. */

import {
  APIConnectionError,
  APITimeoutError,
  BanatieError,
  errorFor,
} from "./errors.js";

export interface Config {
  apiKey: string;
  baseUrl: string;
  cdnBaseUrl: string;
  organization: string | undefined;
  project: string | undefined;
  signingKey: string | undefined;
  liveSigningSecret: string | undefined;
  timeoutMs: number;
  maxRetries: number;
  maxRetryDelayMs: number;
  fetch: typeof fetch;
}

export interface Call {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  query?: Record<string, string | number | undefined | null>;
  json?: unknown;
  form?: FormData;
  /** Safe to send again after a broken connection (nothing is made twice). */
  idempotent?: boolean;
}

export const VERSION = "0.2.0";

/** `Retry-After` in seconds (delay-seconds or an HTTP date); undefined when absent or bad. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, (when - Date.now()) / 1000);
}

function backoffMs(attempt: number): number {
  return Math.min(8000, 500 * 2 ** attempt) * (0.75 + Math.random() / 4);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function url(config: Config, call: Call): string {
  const target = new URL(config.baseUrl + call.path);
  for (const [name, value] of Object.entries(call.query ?? {})) {
    if (value !== undefined && value !== null) target.searchParams.set(name, String(value));
  }
  return target.toString();
}

async function errorFrom(response: Response): Promise<BanatieError> {
  const text = await response.text();
  let code = "HTTP_ERROR";
  let message = text.slice(0, 500) || response.statusText;
  let details: Record<string, unknown> | undefined;
  try {
    const error = (JSON.parse(text) as { error: { code: string; message: string; details?: Record<string, unknown> } }).error;
    if (typeof error.code === "string") {
      code = error.code;
      message = error.message;
      details = error.details;
    }
  } catch {
    // not the API's JSON: keep the text
  }
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  return errorFor(response.status, code, message, details, retryAfter);
}

async function retryDelayMs(response: Response, attempt: number, config: Config): Promise<number | undefined> {
  if (attempt >= config.maxRetries) return undefined;
  if (response.status === 429) {
    const body = (await response.clone().json().catch(() => null)) as { error?: { code?: string } } | null;
    if (body?.error?.code !== "RATE_LIMIT_EXCEEDED") return undefined; // a quota lasts the month
  } else if (response.status !== 503) {
    return undefined;
  }
  const after = parseRetryAfter(response.headers.get("retry-after"));
  if (after === undefined) return backoffMs(attempt);
  return after * 1000 <= config.maxRetryDelayMs ? after * 1000 : undefined;
}

function connectionError(error: unknown): BanatieError {
  const name = (error as { name?: string } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new APITimeoutError(`no answer in time: ${String(error)}`, { code: "TIMEOUT" });
  }
  return new APIConnectionError(`could not reach the server: ${String(error)}`, {
    code: "CONNECTION_ERROR",
  });
}

/** Send `call` and return the envelope's JSON body (`{success, data, pagination?}`). */
export async function send<T>(config: Config, call: Call): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      const headers: Record<string, string> = {
        "X-API-Key": config.apiKey,
        Accept: "application/json",
      };
      let body: BodyInit | undefined;
      if (call.form !== undefined) {
        body = call.form;
      } else if (call.json !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(call.json);
      }
      response = await config.fetch(url(config, call), {
        method: call.method,
        headers,
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
    } catch (error) {
      // A request that never reached the server is safe to send again; others only if idempotent.
      const refused = (error as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
      if (attempt < config.maxRetries && (refused || call.idempotent)) {
        await sleep(backoffMs(attempt));
        continue;
      }
      throw connectionError(error);
    }
    if (response.ok) return (await response.json()) as T;
    const delay = await retryDelayMs(response, attempt, config);
    if (delay === undefined) throw await errorFrom(response);
    await response.body?.cancel();
    await sleep(delay);
  }
}

/** A CDN URL's bytes; the API key is not sent (the CDN may be someone else's). */
export async function getBytes(config: Config, target: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await config.fetch(target, { signal: AbortSignal.timeout(config.timeoutMs) });
  } catch (error) {
    throw connectionError(error);
  }
  if (!response.ok) throw await errorFrom(response);
  return new Uint8Array(await response.arrayBuffer());
}
