/**
 * One WebSocket client: authentication, its subscriptions, submissions, and its bounded send queue.
 * Frames go to the socket only while its write buffer is below a high-water mark; the rest wait in
 * the queue; when the queue is full, new frames are dropped and the client later gets a `lagged`
 * notice with the count (or, with slowClientPolicy `disconnect`, the socket is closed with 4409).
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { WebSocket, RawData } from 'ws';
import type { TridentConfig } from '../common/config';
import type { Logger } from '../common/logger';
import type { TaskName } from '../common/tasks';
import { BoundedQueue } from './bounded-queue';
import type { Hub, Subscriber } from './hub';
import { gatewayMetrics } from './metrics';
import {
  closeCodes,
  errorCodes,
  errorMessage,
  parseClientMessage,
  UNAUTHORIZED_MESSAGE,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ErrorCode,
  type FeedbackMessage,
  type ServerMessage,
  type SubmitMessage,
  type SubscribeMessage,
} from './protocol';
import { validateFeedback, type FeedbackProducer, type ResultVersions } from './feedback';
import type { RateLimiter } from './rate-limit';
import { SubscriptionSet, toFilter, type ResultIdentity } from './subscriptions';
import { validateTexts, type Submitter } from './submit';
import type { Scope, TokenRecord, TokenStore, VerifyResult } from './tokens';
import { ALL_TENANTS, routeKey, tenantOf } from './tenants';

/** Stop handing frames to the socket above this many buffered bytes; the queue holds the rest. */
export const SOCKET_HIGH_WATER_BYTES = 256 * 1024;
/** Results of a socket's own submissions are routed back for the latest this many ids. */
export const MAX_OWNED_IDS = 10_000;
/** Replies (errors, pongs, …) a full queue still takes before the socket counts as not reading. */
export const CONTROL_HEADROOM = 64;
/** … and the bytes they may take beyond `sendQueueMaxBytes` (error frames are cut to ~1 KB, INVALID_TEXT ones to ~30 KB). */
export const CONTROL_HEADROOM_BYTES = 256 * 1024;
/** Time to send an `auth` message when no token came with the upgrade request. */
export const AUTH_TIMEOUT_MS = 10_000;

export interface SessionDeps {
  config: TridentConfig['gateway'];
  producerLimits: TridentConfig['producer'];
  instanceId: string;
  hub: Hub;
  tokens: TokenStore;
  limiter: RateLimiter;
  submitter: Submitter;
  /** Sends corrections to the feedback topic. */
  feedback: FeedbackProducer;
  /** Model versions of recently delivered results (a correction names the one it corrects). */
  versions: ResultVersions;
  log: Logger;
  /** Sockets per token id (shared by all sessions). */
  socketsPerToken: Map<string, number>;
  sessions: Set<Session>;
  /** Sockets that have not authenticated yet (shared; the gateway caps it). */
  unauthenticated: { count: number };
}

export class Session implements Subscriber {
  private token: TokenRecord | undefined;
  private readonly subs: SubscriptionSet;
  private readonly queue: BoundedQueue;
  /** Ids this socket submitted, as (tenant, id) route keys, oldest first. */
  private readonly owned = new Map<string, string>();
  private lagging = false;
  private waitingForDrain = false;
  private closed = false;
  private countedUnauthenticated = false;
  private authTimer: NodeJS.Timeout | undefined;
  /** Set by a pong or any message; cleared by each heartbeat ping. */
  alive = true;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    private readonly deps: SessionDeps,
    presented: VerifyResult | undefined,
  ) {
    this.subs = new SubscriptionSet(deps.config.maxSubscriptionsPerSocket);
    // Bytes bound: the frame count times a generous average, so a burst of big results cannot hold more than this.
    this.queue = new BoundedQueue({
      maxItems: deps.config.sendQueueMax,
      maxBytes: deps.config.sendQueueMaxBytes,
      controlHeadroomBytes: CONTROL_HEADROOM_BYTES,
    });
    deps.sessions.add(this);
    gatewayMetrics.sockets.inc();
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => (this.alive = true));
    ws.on('close', () => this.onClose());
    ws.on('error', (error) => deps.log.debug({ err: error }, 'socket error'));
    if (presented) this.authenticate(presented, 'subprotocol');
    else {
      this.countedUnauthenticated = true;
      deps.unauthenticated.count += 1;
      this.authTimer = setTimeout(() => {
        gatewayMetrics.authFailures.inc({ transport: 'ws', reason: 'timeout' });
        this.close(closeCodes.AUTH_TIMEOUT, 'no auth message in time');
      }, AUTH_TIMEOUT_MS);
    }
  }

  get tokenId(): string | undefined {
    return this.token?.id;
  }

  /** Its token's tenant, or every tenant for an `admin` token (only read once authenticated). */
  get tenantScope(): string {
    if (!this.token) return '';
    return this.token.scopes.includes('admin') ? ALL_TENANTS : this.token.tenant;
  }

  get queued(): number {
    return this.queue.length;
  }

  wants(task: TaskName, result: ResultIdentity, isOwn: boolean): boolean {
    return this.subs.wants(task, result, isOwn || this.owned.has(routeKey(tenantOf(result), result.id)));
  }

  deliver(frame: string, size: number): void {
    if (this.closed) return;
    if (!this.queue.push(frame, size)) {
      gatewayMetrics.dropped.inc();
      if (this.deps.config.slowClientPolicy === 'disconnect') {
        gatewayMetrics.slowDisconnects.inc();
        this.close(closeCodes.SLOW_CLIENT, 'send queue full');
        return;
      }
      this.lagging = true;
      return;
    }
    gatewayMetrics.queuedFrames.inc();
    this.pump();
  }

  /** Sends a heartbeat ping; false when the previous one went unanswered (the caller terminates). */
  heartbeat(): boolean {
    if (!this.alive) return false;
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      // A closing socket; the close handler cleans up.
    }
    return true;
  }

  terminate(): void {
    this.ws.terminate();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.release();
    this.ws.close(code, reason);
    // A peer that does not read cannot complete the close handshake; do not wait 30 s for it.
    setTimeout(() => this.ws.terminate(), 2_000).unref();
  }

  private authenticate(result: VerifyResult, via: string): boolean {
    if (!result.ok) {
      gatewayMetrics.authFailures.inc({ transport: 'ws', reason: result.reason });
      this.sendNow(errorMessage(errorCodes.UNAUTHORIZED, UNAUTHORIZED_MESSAGE));
      this.close(closeCodes.UNAUTHORIZED, 'unauthorized');
      return false;
    }
    const token = result.token;
    // `token create` refuses a token without scopes, but a hand-edited token file can hold one.
    if (!token.scopes.some((s) => s === 'submit' || s === 'subscribe' || s === 'feedback')) {
      gatewayMetrics.authFailures.inc({ transport: 'ws', reason: 'no_scope' });
      this.sendNow(errorMessage(errorCodes.FORBIDDEN, 'this token has none of the "submit", "subscribe" or "feedback" scopes'));
      this.close(closeCodes.FORBIDDEN, 'forbidden');
      return false;
    }
    const count = this.deps.socketsPerToken.get(token.id) ?? 0;
    if (count >= this.deps.config.maxSocketsPerToken) {
      gatewayMetrics.authFailures.inc({ transport: 'ws', reason: 'too_many_sockets' });
      this.close(closeCodes.TOO_MANY_SOCKETS, `at most ${this.deps.config.maxSocketsPerToken} sockets per token`);
      return false;
    }
    this.deps.socketsPerToken.set(token.id, count + 1);
    this.token = token;
    this.uncountUnauthenticated();
    if (this.authTimer) clearTimeout(this.authTimer);
    this.deps.log.debug({ token: token.name, via }, 'socket authenticated');
    this.send({
      v: 1,
      type: 'welcome',
      gateway: this.deps.instanceId,
      token: token.name,
      tenant: token.tenant,
      scopes: token.scopes,
      limits: {
        maxMessageBytes: this.deps.config.maxMessageBytes,
        maxSubscriptions: this.deps.config.maxSubscriptionsPerSocket,
        sendQueueMax: this.deps.config.sendQueueMax,
        requestsPerMinute: this.deps.config.requestsPerMinutePerToken,
      },
    });
    return true;
  }

  private onMessage(data: RawData, _isBinary: boolean): void {
    this.alive = true;
    if (this.closed) return;
    const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const parsed = parseClientMessage(frame, this.deps.config.maxMessageBytes);
    if (!parsed.ok) {
      gatewayMetrics.clientMessages.inc({ type: 'invalid' });
      return this.fail(parsed.error.code, parsed.error.message, parsed.error.ref);
    }
    const message = parsed.message;
    gatewayMetrics.clientMessages.inc({ type: message.type });
    if (message.type === 'auth') {
      if (this.token) return this.fail(errorCodes.ALREADY_AUTHENTICATED, 'this socket is already authenticated', message.ref);
      this.authenticate(this.deps.tokens.verify(message.token), 'message');
      return;
    }
    if (!this.token) return this.fail(errorCodes.NOT_AUTHENTICATED, 'send {"v":1,"type":"auth","token":"…"} first', message.ref);
    if (message.type === 'ping') return this.send({ v: 1, type: 'pong', ...(message.ref !== undefined ? { ref: message.ref } : {}) });
    this.handle(message).catch((error: unknown) => {
      // Logged with an id, never echoed: the error text can name hosts and internals.
      const requestId = randomBytes(6).toString('hex');
      this.deps.log.warn({ err: error, requestId }, 'request failed');
      this.fail(
        errorCodes.UNAVAILABLE,
        `could not complete the request; retry, or quote request id ${requestId} to the operator`,
        message.ref,
      );
    });
  }

  private async handle(message: Exclude<ClientMessage, { type: 'auth' | 'ping' }>): Promise<void> {
    switch (message.type) {
      case 'subscribe':
        return this.subscribe(message);
      case 'unsubscribe': {
        if (!this.allowed('subscribe', message.ref) || !this.withinRate(1, message.ref)) return;
        if (!this.subs.remove(message.subscription))
          return this.fail(errorCodes.UNKNOWN_SUBSCRIPTION, `no subscription ${JSON.stringify(message.subscription)}`, message.ref);
        this.deps.hub.index(this, this.subs.tasks());
        return this.send({
          v: 1,
          type: 'unsubscribed',
          subscription: message.subscription,
          ...(message.ref !== undefined ? { ref: message.ref } : {}),
        });
      }
      case 'submit':
        return this.submit(message);
      case 'feedback':
        return this.sendFeedback(message);
    }
  }

  private subscribe(message: SubscribeMessage): void {
    if (!this.allowed('subscribe', message.ref) || !this.withinRate(1, message.ref)) return;
    const filter = toFilter(message);
    const added = this.subs.add(filter, message.subscription);
    if (!added.ok) {
      return added.reason === 'limit'
        ? this.fail(
            errorCodes.TOO_MANY_SUBSCRIPTIONS,
            `at most ${this.deps.config.maxSubscriptionsPerSocket} subscriptions per socket`,
            message.ref,
          )
        : this.fail(errorCodes.DUPLICATE_SUBSCRIPTION, `subscription ${JSON.stringify(message.subscription)} exists`, message.ref);
    }
    this.deps.hub.index(this, this.subs.tasks());
    this.send({
      v: 1,
      type: 'subscribed',
      subscription: added.id,
      tasks: [...filter.tasks],
      ...(message.ref !== undefined ? { ref: message.ref } : {}),
    });
  }

  private async submit(message: SubmitMessage): Promise<void> {
    const records = message.texts ?? [message.text!];
    if (!this.allowed('submit', message.ref) || !this.withinRate(records.length, message.ref)) return;
    const checked = validateTexts(records, this.deps.producerLimits, this.token!.tenant, this.deps.submitter.recent);
    if (!checked.ok) {
      const first = checked.rejections[0]!;
      return this.fail(
        errorCodes.INVALID_TEXT,
        `${checked.rejections.length} of ${records.length} texts refused (first: texts[${first.index}]: ${first.code}: ${first.reason}); nothing was sent`,
        message.ref,
        { rejections: checked.rejections },
      );
    }
    const ids = checked.events.map((e) => e.id);
    // Own the ids before sending: a fast processor's results must find their way back.
    if (message.route !== false) for (const id of ids) this.ownId(id);
    await this.deps.submitter.send(checked.events);
    gatewayMetrics.submitted.inc({ transport: 'ws' }, ids.length);
    this.send({ v: 1, type: 'accepted', ids, ...(message.ref !== undefined ? { ref: message.ref } : {}) });
  }

  private async sendFeedback(message: FeedbackMessage): Promise<void> {
    if (!this.allowed('feedback', message.ref) || !this.withinRate(1, message.ref)) return;
    const token = this.token!;
    const checked = validateFeedback(message.feedback, 0, this.deps.producerLimits, token, (id, task) =>
      this.deps.versions.get(token.tenant, id, task),
    );
    if (!checked.ok) {
      const r = checked.rejection;
      gatewayMetrics.feedbackRejected.inc({ transport: 'ws', code: r.code });
      return this.fail(errorCodes.INVALID_FEEDBACK, `feedback refused: ${r.code}: ${r.reason}; nothing was sent`, message.ref, {
        rejections: [r],
      });
    }
    const event = checked.event;
    await this.deps.feedback.send([event]);
    gatewayMetrics.feedbackAccepted.inc({ transport: 'ws', task: event.task });
    this.send({
      v: 1,
      type: 'feedbackAccepted',
      id: event.id,
      task: event.task,
      source: event.source,
      modelVersion: event.modelVersion,
      ...(message.ref !== undefined ? { ref: message.ref } : {}),
    });
  }

  private ownId(id: string): void {
    const tenant = this.token!.tenant;
    const key = routeKey(tenant, id);
    if (this.owned.has(key)) return;
    if (this.owned.size >= MAX_OWNED_IDS) {
      const [oldestKey, oldestId] = this.owned.entries().next().value as [string, string];
      this.owned.delete(oldestKey);
      this.deps.hub.disown(tenant, oldestId, this);
    }
    this.owned.set(key, id);
    this.deps.hub.own(tenant, id, this);
  }

  private allowed(scope: Scope, ref: string | undefined): boolean {
    if (this.token!.scopes.includes(scope)) return true;
    gatewayMetrics.authFailures.inc({ transport: 'ws', reason: `missing_scope_${scope}` });
    this.fail(errorCodes.FORBIDDEN, `this token lacks the "${scope}" scope`, ref);
    return false;
  }

  private withinRate(cost: number, ref: string | undefined): boolean {
    const taken = this.deps.limiter.take(this.token!.id, cost);
    if (taken.ok) return true;
    gatewayMetrics.rateLimited.inc({ transport: 'ws' });
    this.fail(errorCodes.RATE_LIMITED, `over ${this.deps.config.requestsPerMinutePerToken} requests per minute for this token`, ref, {
      retryAfterMs: taken.retryAfterMs,
    });
    return false;
  }

  private fail(code: ErrorCode, message: string, ref?: string, extra: Parameters<typeof errorMessage>[2] = {}): void {
    gatewayMetrics.protocolErrors.inc({ code });
    this.send(errorMessage(code, message, { ...extra, ...(ref !== undefined ? { ref } : {}) }));
  }

  /**
   * Replies go through the same queue as results (order kept) and are never dropped; a client that
   * keeps sending requests without reading the replies is closed instead of growing the queue.
   */
  private send(message: ServerMessage): void {
    if (this.closed) return;
    if (this.queue.length >= this.deps.config.sendQueueMax + CONTROL_HEADROOM) {
      gatewayMetrics.slowDisconnects.inc();
      this.close(closeCodes.SLOW_CLIENT, 'not reading replies');
      return;
    }
    if (!this.queue.pushControl(JSON.stringify(message))) {
      gatewayMetrics.slowDisconnects.inc();
      this.close(closeCodes.SLOW_CLIENT, 'not reading replies');
      return;
    }
    gatewayMetrics.queuedFrames.inc();
    this.pump();
  }

  /** For the last words before a close: bypasses the queue. */
  private sendNow(message: ServerMessage): void {
    try {
      this.ws.send(JSON.stringify(message));
    } catch {
      // Already closing.
    }
  }

  private pump(): void {
    if (this.waitingForDrain || this.closed) return;
    while (this.queue.length > 0 && this.ws.bufferedAmount < SOCKET_HIGH_WATER_BYTES) {
      this.ws.send(this.queue.shift()!);
      gatewayMetrics.queuedFrames.dec();
    }
    if (this.lagging && this.queue.hasRoom()) {
      this.lagging = false;
      const missed = this.queue.takeMissed();
      // At most half the queue is in use here, so the notice always fits.
      this.queue.pushControl(JSON.stringify({ v: PROTOCOL_VERSION, type: 'lagged', missed } satisfies ServerMessage));
      gatewayMetrics.queuedFrames.inc();
      return this.pump();
    }
    if (this.queue.length > 0 || this.lagging) {
      this.waitingForDrain = true;
      this.socket.once('drain', () => {
        this.waitingForDrain = false;
        this.pump();
      });
    }
  }

  private onClose(): void {
    this.release();
    this.deps.sessions.delete(this);
    gatewayMetrics.sockets.dec();
  }

  /** Gives back everything the session holds (idempotent). */
  private release(): void {
    if (this.closed) return;
    this.closed = true;
    this.uncountUnauthenticated();
    if (this.authTimer) clearTimeout(this.authTimer);
    gatewayMetrics.queuedFrames.dec(this.queue.length);
    this.queue.clear();
    this.deps.hub.remove(this);
    for (const id of this.owned.values()) this.deps.hub.disown(this.token!.tenant, id, this);
    this.owned.clear();
    if (this.token) {
      const n = (this.deps.socketsPerToken.get(this.token.id) ?? 1) - 1;
      if (n <= 0) this.deps.socketsPerToken.delete(this.token.id);
      else this.deps.socketsPerToken.set(this.token.id, n);
    }
  }

  private uncountUnauthenticated(): void {
    if (!this.countedUnauthenticated) return;
    this.countedUnauthenticated = false;
    this.deps.unauthenticated.count -= 1;
  }
}
