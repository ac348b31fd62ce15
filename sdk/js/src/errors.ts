/**
 * Errors: one class per error code of the API, all extending {@link BanatieError}.
 * The class follows `code` first (stable), then the HTTP status for codes this SDK does not know.
 */

export interface ErrorInit {
  code?: string;
  status?: number | undefined;
  details?: Record<string, unknown> | undefined;
  retryAfter?: number | undefined;
}

export class BanatieError extends Error {
  /** The API's stable error code, e.g. `IMAGE_NOT_FOUND` or `RATE_LIMIT_EXCEEDED`. */
  readonly code: string;
  /** The HTTP status; undefined when no answer arrived. */
  readonly status: number | undefined;
  readonly details: Record<string, unknown>;
  /** Seconds the server asked to wait (`Retry-After`), if it did. */
  readonly retryAfter: number | undefined;

  constructor(message: string, init: ErrorInit = {}) {
    super(message);
    this.name = new.target.name;
    this.code = init.code ?? "ERROR";
    this.status = init.status;
    this.details = init.details ?? {};
    this.retryAfter = init.retryAfter;
  }
}

/** 400: a field is missing or wrong (the message names it). */
export class ValidationError extends BanatieError {}
/** 401: the key is missing, invalid, revoked or expired. */
export class AuthenticationError extends BanatieError {}
/** 403: the key may not do this. */
export class PermissionDeniedError extends BanatieError {}
/** 404: no such resource in the key's project. */
export class NotFoundError extends BanatieError {}
/** 409: the request conflicts with the current state. */
export class ConflictError extends BanatieError {}
/** 409 `ALIAS_CONFLICT`. */
export class AliasConflictError extends ConflictError {}
/** 413: the body or file is over the server's limit. */
export class PayloadTooLargeError extends BanatieError {}
/** 422 `CONTENT_BLOCKED`: the model refused the prompt. */
export class ContentBlockedError extends BanatieError {}
/** 429 `RATE_LIMIT_EXCEEDED`, after the SDK's retries. */
export class RateLimitError extends BanatieError {}
/** 429 `QUOTA_EXCEEDED`: the monthly allowance or storage is used up (never retried). */
export class QuotaExceededError extends BanatieError {}
/** 502–504 from the image model (and a 503 whose code this SDK does not know yet). */
export class ProviderError extends BanatieError {}
/**
 * 503 from the server itself, not the model: its database, image store or rate limiter is down
 * (`DATABASE_UNAVAILABLE`, `STORAGE_UNAVAILABLE`, `STORAGE_ERROR`, `RATE_LIMITER_UNAVAILABLE`) or
 * it is shutting down (`UNAVAILABLE`). Retried like any 503; `retryAfter` says when to try again.
 */
export class ServiceUnavailableError extends BanatieError {}
/** 500 and other server errors. */
export class InternalServerError extends BanatieError {}
/** No answer: the server could not be reached or the connection broke. */
export class APIConnectionError extends BanatieError {}
/** No answer within the client's timeout. */
export class APITimeoutError extends APIConnectionError {}

type ErrorClass = new (message: string, init: ErrorInit) => BanatieError;

const BY_CODE: Record<string, ErrorClass> = {
  VALIDATION_ERROR: ValidationError,
  UNAUTHORIZED: AuthenticationError,
  FORBIDDEN: PermissionDeniedError,
  ALIAS_CONFLICT: AliasConflictError,
  PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  CONTENT_BLOCKED: ContentBlockedError,
  RATE_LIMIT_EXCEEDED: RateLimitError,
  SCOPE_LIMIT_EXCEEDED: RateLimitError,
  QUOTA_EXCEEDED: QuotaExceededError,
  PROVIDER_ERROR: ProviderError,
  PROVIDER_TIMEOUT: ProviderError,
  MODEL_UNAVAILABLE: ProviderError,
  DATABASE_UNAVAILABLE: ServiceUnavailableError,
  STORAGE_UNAVAILABLE: ServiceUnavailableError,
  STORAGE_ERROR: ServiceUnavailableError,
  RATE_LIMITER_UNAVAILABLE: ServiceUnavailableError,
  UNAVAILABLE: ServiceUnavailableError,
  INTERNAL_ERROR: InternalServerError,
};

const BY_STATUS: Record<number, ErrorClass> = {
  400: ValidationError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  422: ContentBlockedError,
  429: RateLimitError,
  502: ProviderError,
  503: ProviderError,
  504: ProviderError,
};

/** The error for an answer with `status` and the API's `code`. */
export function errorFor(
  status: number,
  code: string,
  message: string,
  details?: Record<string, unknown>,
  retryAfter?: number,
): BanatieError {
  let cls = BY_CODE[code];
  if (cls === undefined && code.endsWith("_NOT_FOUND")) cls = NotFoundError;
  if (cls === undefined) cls = BY_STATUS[status] ?? (status >= 500 ? InternalServerError : BanatieError);
  return new cls(message, { code, status, details, retryAfter });
}
