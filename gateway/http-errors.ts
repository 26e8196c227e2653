/**
 * The HTTP side's error: a TridentError with the status to answer, extra body fields and headers.
 * Its message is for the client; internal failures never become one (see `Gateway.onRequest`).
 */
import { TridentError } from '../common/errors';
import type { ErrorCode } from './protocol';

/** Codes only HTTP answers use (the protocol's `errorCodes` are shared with the WebSocket). */
export const httpErrorCodes = {
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  BAD_REQUEST: 'BAD_REQUEST',
} as const;
export type HttpErrorCode = ErrorCode | (typeof httpErrorCodes)[keyof typeof httpErrorCodes];

export class HttpError extends TridentError {
  constructor(
    readonly status: number,
    override readonly code: HttpErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message, { retriable: status === 429 || status === 503 });
  }
}
