/**
 * The gateway's WebSocket protocol, version 1 (documented in gateway/README.md). Pure: parsing,
 * validation and the shapes of server messages; no sockets here.
 *
 * Every client message is a JSON object with `v: 1` and a `type`; an optional `ref` (client-chosen)
 * is echoed in the reply so clients can match replies to requests. A malformed message gets an
 * `error` reply with a code; the socket stays open.
 */
import { z } from 'zod';
import { builtInTasks, type TaskName } from '../common/tasks';

export const PROTOCOL_VERSION = 1;
/** The WebSocket subprotocol the gateway speaks; browsers send the token as a second one, `bearer.<token>`. */
export const SUBPROTOCOL = 'trident.v1';
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';

/** Error codes sent in `error` messages (and, for HTTP, in the JSON error body). */
export const errorCodes = {
  BAD_JSON: 'BAD_JSON',
  BAD_MESSAGE: 'BAD_MESSAGE',
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  NOT_AUTHENTICATED: 'NOT_AUTHENTICATED',
  ALREADY_AUTHENTICATED: 'ALREADY_AUTHENTICATED',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  RATE_LIMITED: 'RATE_LIMITED',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  DUPLICATE_SUBSCRIPTION: 'DUPLICATE_SUBSCRIPTION',
  UNKNOWN_SUBSCRIPTION: 'UNKNOWN_SUBSCRIPTION',
  INVALID_TEXT: 'INVALID_TEXT',
  INVALID_FEEDBACK: 'INVALID_FEEDBACK',
  UNAVAILABLE: 'UNAVAILABLE',
  // HTTP only
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  BAD_REQUEST: 'BAD_REQUEST',
} as const;
export type ErrorCode = (typeof errorCodes)[keyof typeof errorCodes];

/** The one answer to every refused token (missing, malformed, unknown, wrong secret, revoked): no oracle. */
export const UNAUTHORIZED_MESSAGE = 'missing, invalid or revoked token; send a valid API token as "Authorization: Bearer <token>"';

/** Longest text of a client's own input echoed in an error (unknown keys, JSON errors). */
export const MAX_ECHO_CHARS = 64;
/** Longest `message` of an error reply; with the fixed fields, an error frame stays under ~1 KB. */
export const MAX_ERROR_MESSAGE_CHARS = 512;

/** Cuts a string to `max` characters (marking the cut), never inside a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** WebSocket close codes (4000–4999 are the application's). */
export const closeCodes = {
  /** Missing, wrong, or revoked token. */
  UNAUTHORIZED: 4401,
  /** The token has no scope usable here. */
  FORBIDDEN: 4403,
  /** No `auth` message within the auth timeout. */
  AUTH_TIMEOUT: 4408,
  /** The client fell too far behind and `slowClientPolicy` is `disconnect`. */
  SLOW_CLIENT: 4409,
  /** The token already has `maxSocketsPerToken` sockets open. */
  TOO_MANY_SOCKETS: 4429,
  /** The gateway is shutting down. */
  GOING_AWAY: 1001,
} as const;

const ref = z.string().max(128).optional();
const task = z.enum(builtInTasks);
const shortString = z.string().min(1).max(512);

export const authMessage = z.object({ v: z.literal(1), type: z.literal('auth'), ref, token: z.string().min(1).max(512) }).strict();

export const subscribeMessage = z
  .object({
    v: z.literal(1),
    type: z.literal('subscribe'),
    ref,
    /** Client-chosen subscription id (default: assigned by the gateway). */
    subscription: z.string().min(1).max(64).optional(),
    /** Tasks to receive (default: all four). */
    tasks: z.array(task).min(1).max(builtInTasks.length).optional(),
    /** Only results whose `key` is one of these. */
    keys: z.array(shortString).min(1).max(1000).optional(),
    /** Only results for these input ids. */
    ids: z.array(shortString).min(1).max(1000).optional(),
    /** Only results of texts this socket submitted. */
    own: z.boolean().optional(),
  })
  .strict();

export const unsubscribeMessage = z
  .object({ v: z.literal(1), type: z.literal('unsubscribe'), ref, subscription: z.string().min(1).max(64) })
  .strict();

/** A text to submit: the same record shape as `trident produce` (validated by producers/records.ts). */
const textRecord = z.record(z.string(), z.unknown());

export const submitMessage = z
  .object({
    v: z.literal(1),
    type: z.literal('submit'),
    ref,
    /** One text … */
    text: textRecord.optional(),
    /** … or many (at most 100 per message). */
    texts: z.array(textRecord).min(1).max(100).optional(),
    /** Route the results of these texts back to this socket (default true). */
    route: z.boolean().optional(),
  })
  .strict()
  .refine((m) => (m.text === undefined) !== (m.texts === undefined), { message: 'give exactly one of "text" or "texts"' });

/** A correction of a result (checked by gateway/feedback.ts, like `trident produce --feedback`). */
export const feedbackMessage = z
  .object({ v: z.literal(1), type: z.literal('feedback'), ref, feedback: z.record(z.string(), z.unknown()) })
  .strict();

export const pingMessage = z.object({ v: z.literal(1), type: z.literal('ping'), ref }).strict();

export type AuthMessage = z.infer<typeof authMessage>;
export type SubscribeMessage = z.infer<typeof subscribeMessage>;
export type UnsubscribeMessage = z.infer<typeof unsubscribeMessage>;
export type SubmitMessage = z.infer<typeof submitMessage>;
export type FeedbackMessage = z.infer<typeof feedbackMessage>;
export type PingMessage = z.infer<typeof pingMessage>;
export type ClientMessage = AuthMessage | SubscribeMessage | UnsubscribeMessage | SubmitMessage | FeedbackMessage | PingMessage;

const schemas: Record<ClientMessage['type'], z.ZodType> = {
  auth: authMessage,
  subscribe: subscribeMessage,
  unsubscribe: unsubscribeMessage,
  submit: submitMessage,
  feedback: feedbackMessage,
  ping: pingMessage,
};
export const clientMessageTypes = Object.keys(schemas) as Array<ClientMessage['type']>;

export interface ProtocolError {
  code: ErrorCode;
  message: string;
  /** The `ref` of the offending message, when it could be read. */
  ref?: string;
}

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError };

/**
 * Parses and validates one client frame. Pure and synchronous; never throws.
 * `maxBytes` bounds the frame's size (binary frames are read as UTF-8 text).
 */
export function parseClientMessage(frame: string | Buffer, maxBytes: number): ParseResult {
  const size = typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.length;
  if (size > maxBytes) return fail(errorCodes.MESSAGE_TOO_LARGE, `message is ${size} bytes, over the maximum of ${maxBytes}`);
  let raw: unknown;
  try {
    raw = JSON.parse(typeof frame === 'string' ? frame : frame.toString('utf8'));
  } catch (error) {
    return fail(errorCodes.BAD_JSON, `not valid JSON: ${truncate((error as Error).message, 2 * MAX_ECHO_CHARS)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return fail(errorCodes.BAD_MESSAGE, 'expected a JSON object with "v" and "type"');
  const obj = raw as Record<string, unknown>;
  const refValue = typeof obj.ref === 'string' && obj.ref.length <= 128 ? obj.ref : undefined;
  if (obj.v === undefined)
    return fail(errorCodes.UNSUPPORTED_VERSION, `missing "v"; this gateway speaks protocol version ${PROTOCOL_VERSION}`, refValue);
  if (obj.v !== PROTOCOL_VERSION)
    return fail(
      errorCodes.UNSUPPORTED_VERSION,
      `protocol version ${JSON.stringify(obj.v)} is not supported; use ${PROTOCOL_VERSION}`,
      refValue,
    );
  if (typeof obj.type !== 'string') return fail(errorCodes.BAD_MESSAGE, 'missing "type"', refValue);
  const schema = schemas[obj.type as ClientMessage['type']];
  if (!Object.hasOwn(schemas, obj.type) || !schema) {
    return fail(
      errorCodes.UNKNOWN_TYPE,
      `unknown message type ${JSON.stringify(obj.type).slice(0, 80)}; valid types: ${clientMessageTypes.join(', ')}`,
      refValue,
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `field "${issue.path.join('.')}": ` : '';
    // A frame can hold thousands of junk keys: name a few, each cut short, and count the rest.
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys
            .slice(0, 3)
            .map((k) => JSON.stringify(truncate(k, MAX_ECHO_CHARS)))
            .join(', ')}${issue.keys.length > 3 ? ` and ${issue.keys.length - 3} more` : ''}`
        : issue.message;
    return fail(errorCodes.BAD_MESSAGE, `${obj.type}: ${truncate(where, MAX_ECHO_CHARS * 2)}${message}`, refValue);
  }
  return { ok: true, message: parsed.data as ClientMessage };
}

function fail(code: ErrorCode, message: string, ref?: string): ParseResult {
  const bounded = truncate(message, MAX_ERROR_MESSAGE_CHARS);
  return { ok: false, error: ref === undefined ? { code, message: bounded } : { code, message: bounded, ref } };
}

// ---- server → client messages ----

export interface WelcomeMessage {
  v: 1;
  type: 'welcome';
  gateway: string;
  token: string;
  /** The token's tenant: what it submits belongs to it, and it sees only its results (unless `admin`). */
  tenant: string;
  scopes: string[];
  limits: { maxMessageBytes: number; maxSubscriptions: number; sendQueueMax: number; requestsPerMinute: number };
}
export interface ErrorMessage {
  v: 1;
  type: 'error';
  ref?: string;
  code: ErrorCode;
  message: string;
  /** Per-text problems of a `submit` (index into `texts`), or the problem of a `feedback` (index 0). */
  rejections?: Array<{ index: number; code: string; reason: string }>;
  retryAfterMs?: number;
}
export interface SubscribedMessage {
  v: 1;
  type: 'subscribed';
  ref?: string;
  subscription: string;
  tasks: TaskName[];
}
export interface UnsubscribedMessage {
  v: 1;
  type: 'unsubscribed';
  ref?: string;
  subscription: string;
}
export interface AcceptedMessage {
  v: 1;
  type: 'accepted';
  ref?: string;
  ids: string[];
}
export interface ResultMessage {
  v: 1;
  type: 'result';
  task: TaskName;
  /** The result event as published on the task's topic (see schemas/avro/<task>.avsc). */
  data: unknown;
}
export interface LaggedMessage {
  v: 1;
  type: 'lagged';
  /** Results this socket did not receive because its send queue was full. */
  missed: number;
}
/** A correction was validated and acknowledged by Kafka on the feedback topic. */
export interface FeedbackAcceptedMessage {
  v: 1;
  type: 'feedbackAccepted';
  ref?: string;
  id: string;
  task: string;
  /** Who the learner will see as the label's giver (from the token). */
  source: string;
  modelVersion: string | null;
}
export interface PongMessage {
  v: 1;
  type: 'pong';
  ref?: string;
}
export type ServerMessage =
  | WelcomeMessage
  | ErrorMessage
  | SubscribedMessage
  | UnsubscribedMessage
  | AcceptedMessage
  | FeedbackAcceptedMessage
  | ResultMessage
  | LaggedMessage
  | PongMessage;

export function errorMessage(
  code: ErrorCode,
  message: string,
  extra: Partial<Pick<ErrorMessage, 'ref' | 'rejections' | 'retryAfterMs'>> = {},
): ErrorMessage {
  const out: ErrorMessage = { v: 1, type: 'error', code, message: truncate(message, MAX_ERROR_MESSAGE_CHARS) };
  if (extra.ref !== undefined) out.ref = extra.ref;
  if (extra.rejections !== undefined)
    out.rejections = extra.rejections.map((r) => ({ index: r.index, code: r.code, reason: truncate(r.reason, 2 * MAX_ECHO_CHARS + 64) }));
  if (extra.retryAfterMs !== undefined) out.retryAfterMs = extra.retryAfterMs;
  return out;
}

/** Serialised once per result and shared by every socket it goes to. */
export function resultFrame(task: TaskName, data: unknown): string {
  return JSON.stringify({ v: 1, type: 'result', task, data } satisfies ResultMessage);
}
