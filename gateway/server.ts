/**
 * The gateway process: one HTTP server (API, health, metrics, docs, the live page) with the
 * WebSocket endpoint `/v1/ws` on the same port, the result stream from Kafka, and the hub between
 * them. Built from config in `Gateway.fromConfig`; everything else is plain wiring.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Kafka } from 'kafkajs';
import { WebSocketServer } from 'ws';
import type { TridentConfig } from '../common/config';
import { createKafka } from '../common/kafka';
import { stageLogger, type Logger } from '../common/logger';
import { collectProcessMetrics, metricsRegistry } from '../common/metrics';
import { TridentProducer } from '../producers/producer';
import type { TaskName } from '../common/tasks';
import { EventCodec } from '../schemas/codec';
import { Hub } from './hub';
import { gatewayMetrics } from './metrics';
import { openApiDocument } from './openapi';
import { bearerToken, isObject, readBody, rejectUpgrade, sendJson } from './http';
import { HttpError, httpErrorCodes } from './http-errors';
import { BEARER_SUBPROTOCOL_PREFIX, closeCodes, errorCodes, SUBPROTOCOL, UNAUTHORIZED_MESSAGE } from './protocol';
import { Readiness, type ReadyReport } from './readiness';
import { RateLimiter } from './rate-limit';
import { ResultStream } from './results';
import { Session, type SessionDeps } from './session';
import { expectedTasks, Submitter, validateTexts } from './submit';
import { FeedbackProducer, MAX_FEEDBACK_PER_REQUEST, ResultVersions, validateFeedbackBatch } from './feedback';
import { tenantOf } from './tenants';
import { checkTokenFilePermissions, TokenStore, type Scope, type TokenRecord, type VerifyResult } from './tokens';

export type { ReadyReport } from './readiness';

/** How often the gateway looks for revoked tokens (a stat of the token file). */
const REVOCATION_POLL_MS = 250;

const publicDir = resolvePublicDir();
const staticFiles: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const swaggerAssets: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

function resolvePublicDir(): string {
  // Under ts (jest) __dirname is <repo>/gateway; compiled it is <repo>/dist/gateway. The page is not compiled.
  const parts = __dirname.split(/[\\/]/);
  const repoRoot = parts[parts.length - 2] === 'dist' ? join(__dirname, '..', '..') : join(__dirname, '..');
  return join(repoRoot, 'gateway', 'public');
}

export interface GatewayParts {
  config: TridentConfig;
  kafka: Kafka;
  codec: EventCodec;
  tokens: TokenStore;
  log?: Logger;
  instanceId?: string;
}

export class Gateway {
  readonly instanceId: string;
  readonly hub = new Hub();
  private readonly config: TridentConfig;
  private readonly log: Logger;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly results: ResultStream;
  private readonly submitter: Submitter;
  private readonly feedback: FeedbackProducer;
  /** Model versions of the results this gateway delivered lately: a correction names the one it corrects. */
  private readonly versions = new ResultVersions();
  private readonly limiter: RateLimiter;
  private readonly sessions = new Set<Session>();
  private readonly socketsPerToken = new Map<string, number>();
  private readonly tokens: TokenStore;
  private readonly readinessCheck: Readiness;
  private readonly unauthenticated = { count: 0 };
  private heartbeat: NodeJS.Timeout | undefined;
  private tokenWatch: NodeJS.Timeout | undefined;
  private tokenGeneration = -1;
  private readonly openapi: string;

  constructor(parts: GatewayParts) {
    this.config = parts.config;
    this.tokens = parts.tokens;
    this.log = parts.log ?? stageLogger('gateway');
    this.instanceId = parts.instanceId ?? `gw-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    // One producer for texts and corrections (the submitter disconnects it on stop).
    const producer = new TridentProducer(parts.kafka, parts.codec, parts.config);
    this.submitter = new Submitter(producer);
    this.feedback = new FeedbackProducer(producer);
    this.limiter = new RateLimiter(parts.config.gateway.requestsPerMinutePerToken);
    this.results = new ResultStream(
      parts.kafka,
      parts.codec,
      parts.config,
      `trident-gateway-${this.instanceId}`,
      (task, result) => {
        this.versions.note(tenantOf(result), result.id, task, result.modelVersion);
        this.hub.dispatch(task, result);
      },
      this.log,
    );
    this.readinessCheck = new Readiness(parts.kafka, parts.config.registry.url, this.results.state, this.log);
    this.openapi = JSON.stringify(openApiDocument(parts.config.gateway.maxWaitMs), null, 2);
    const g = parts.config.gateway;
    // Explicit limits instead of Node's defaults: a slow-loris client holds a socket for at most these.
    this.server = createServer(
      { headersTimeout: g.headersTimeoutMs, requestTimeout: g.requestTimeoutMs, keepAliveTimeout: g.keepAliveTimeoutMs },
      (req, res) => this.onRequest(req, res),
    );
    // Every TCP connection (HTTP and WebSocket) counts; above the cap Node closes new ones at once.
    this.server.maxConnections = g.maxConnections;
    // A frame somewhat over the limit still gets a MESSAGE_TOO_LARGE reply; far over, ws closes with 1009.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: parts.config.gateway.maxMessageBytes * 2,
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  /** @throws TokenStoreError when the token file is readable by others or not a token file. */
  static fromConfig(config: TridentConfig): Gateway {
    checkTokenFilePermissions(config.gateway.tokensFile);
    return new Gateway({
      config,
      kafka: createKafka(config, 'trident-gateway'),
      codec: EventCodec.fromConfig(config),
      tokens: new TokenStore(config.gateway.tokensFile),
    });
  }

  /** Starts listening and reading results (in the background). Resolves with the bound address. */
  async start(): Promise<{ host: string; port: number; url: string }> {
    collectProcessMetrics();
    this.results.start();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.gateway.port, this.config.gateway.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.heartbeat = setInterval(() => this.beat(), this.config.gateway.heartbeatMs);
    // Revoked tokens lose their open sockets too, within a second whatever else reads the file.
    this.tokenGeneration = this.tokens.generation;
    this.tokenWatch = setInterval(() => this.checkRevocations(), REVOCATION_POLL_MS);
    const { host, port } = this.address;
    this.log.info({ host, port, instance: this.instanceId }, 'gateway listening');
    return { host, port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/` };
  }

  get address(): { host: string; port: number } {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new Error('gateway is not listening');
    return { host: a.address, port: a.port };
  }

  /** Resolves once results are being read (or false after `timeoutMs`). */
  whenReading(timeoutMs = 60_000): Promise<boolean> {
    return this.results.whenRunning(timeoutMs);
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.tokenWatch) clearInterval(this.tokenWatch);
    for (const s of [...this.sessions]) s.close(closeCodes.GOING_AWAY, 'gateway shutting down');
    this.hub.cancelWaits();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    for (const s of [...this.sessions]) s.terminate();
    await Promise.allSettled([this.results.stop(), this.submitter.close(), this.readinessCheck.close()]);
  }

  /** Kafka, the registry and the result stream answer (see readiness.ts). */
  readiness(): Promise<ReadyReport> {
    return this.readinessCheck.report();
  }

  // ---- WebSocket ----

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/v1/ws') return rejectUpgrade(socket, 404, 'Not Found');
    // A token can come as a bearer header (apps) or as the subprotocol `bearer.<token>` (browsers);
    // with neither, the client sends an `auth` message first.
    const header = bearerToken(req.headers.authorization);
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    const viaProtocol = offered.find((p) => p.startsWith(BEARER_SUBPROTOCOL_PREFIX))?.slice(BEARER_SUBPROTOCOL_PREFIX.length);
    const g = this.config.gateway;
    if (this.sessions.size >= g.maxSockets) return rejectUpgrade(socket, 503, 'Service Unavailable', { 'Retry-After': '5' });
    let presented: VerifyResult | undefined;
    if (header !== undefined) {
      presented = this.tokens.verify(header);
      // Apps that send a header can read an HTTP status: refuse before upgrading.
      if (!presented.ok) {
        gatewayMetrics.authFailures.inc({ transport: 'ws', reason: presented.reason });
        return rejectUpgrade(socket, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer' });
      }
    } else if (viaProtocol !== undefined) {
      presented = this.tokens.verify(viaProtocol);
    }
    // Sockets still to send an `auth` message cost memory before anyone is known: cap them.
    if (!presented?.ok && this.unauthenticated.count >= g.maxUnauthenticatedSockets) {
      gatewayMetrics.authFailures.inc({ transport: 'ws', reason: 'too_many_unauthenticated' });
      return rejectUpgrade(socket, 503, 'Service Unavailable', { 'Retry-After': '5' });
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const deps: SessionDeps = {
        config: this.config.gateway,
        producerLimits: this.config.producer,
        instanceId: this.instanceId,
        hub: this.hub,
        tokens: this.tokens,
        limiter: this.limiter,
        submitter: this.submitter,
        feedback: this.feedback,
        versions: this.versions,
        log: this.log,
        socketsPerToken: this.socketsPerToken,
        sessions: this.sessions,
        unauthenticated: this.unauthenticated,
      };
      new Session(ws, req.socket as Socket, deps, presented);
    });
  }

  private beat(): void {
    for (const s of this.sessions) {
      if (!s.heartbeat()) {
        gatewayMetrics.deadPeers.inc();
        s.terminate();
      }
    }
  }

  /** Closes the sockets of tokens that are no longer active, whoever noticed the file change first. */
  private checkRevocations(): void {
    this.tokens.poll();
    if (this.tokens.generation === this.tokenGeneration) return;
    this.tokenGeneration = this.tokens.generation;
    for (const s of this.sessions) {
      if (s.tokenId !== undefined && !this.tokens.isActive(s.tokenId)) s.close(closeCodes.UNAUTHORIZED, 'token revoked');
    }
  }

  // ---- HTTP ----

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const route = routeName(url.pathname);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.on('finish', () => gatewayMetrics.httpRequests.inc({ route, status: String(res.statusCode) }));
    this.handleHttp(req, res, url).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof HttpError && error.status < 500) {
        for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
        return sendJson(res, error.status, { error: { code: error.code, message: error.message, ...error.extra } });
      }
      // Internal failures (Kafka, the registry, a bug) are logged, never echoed: the client gets an id to quote.
      const requestId = randomBytes(6).toString('hex');
      this.log.warn({ err: error, requestId, route }, 'request failed');
      res.setHeader('Retry-After', '1');
      sendJson(res, 503, {
        error: {
          code: errorCodes.UNAVAILABLE,
          message: 'could not complete the request; retry, or quote the requestId to the operator',
          requestId,
        },
      });
    });
  }

  private async handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (path === '/v1/texts') {
      if (method !== 'POST') throw new HttpError(405, httpErrorCodes.METHOD_NOT_ALLOWED, 'use POST', {}, { Allow: 'POST' });
      return this.postTexts(req, res, url);
    }
    if (path === '/v1/feedback') {
      if (method !== 'POST') throw new HttpError(405, httpErrorCodes.METHOD_NOT_ALLOWED, 'use POST', {}, { Allow: 'POST' });
      return this.postFeedback(req, res);
    }
    if (method !== 'GET' && method !== 'HEAD')
      throw new HttpError(405, httpErrorCodes.METHOD_NOT_ALLOWED, `${method} is not allowed here`, {}, { Allow: 'GET' });
    switch (path) {
      case '/healthz':
        return sendJson(res, 200, { status: 'ok', instance: this.instanceId });
      case '/readyz': {
        const report = await this.readiness();
        return sendJson(res, report.ready ? 200 : 503, report);
      }
      case '/metrics': {
        const body = await metricsRegistry.metrics();
        res.writeHead(200, { 'Content-Type': metricsRegistry.contentType });
        return void res.end(body);
      }
      case '/openapi.json':
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
        return void res.end(this.openapi);
      case '/docs':
      case '/docs/':
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        return void res.end(docsPage);
    }
    if (path.startsWith('/docs/assets/')) {
      const name = path.slice('/docs/assets/'.length);
      const type = swaggerAssets[name];
      if (!type) throw new HttpError(404, httpErrorCodes.NOT_FOUND, 'no such file');
      res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=3600' });
      return void res.end(readFileSync(join(swaggerDir(), name)));
    }
    const file = staticFiles[path];
    if (!file) throw new HttpError(404, httpErrorCodes.NOT_FOUND, `no route ${path}`);
    res.writeHead(200, {
      'Content-Type': file.type,
      'Cache-Control': 'no-cache',
      'Content-Security-Policy':
        "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'",
    });
    res.end(readFileSync(join(publicDir, file.file)));
  }

  private authorize(req: IncomingMessage, scope: Scope): TokenRecord {
    const token = bearerToken(req.headers.authorization);
    const result = this.tokens.verify(token);
    if (!result.ok) {
      gatewayMetrics.authFailures.inc({ transport: 'http', reason: result.reason });
      // One body for every reason: which ids exist, or which are revoked, is not the client's to learn.
      throw new HttpError(401, errorCodes.UNAUTHORIZED, UNAUTHORIZED_MESSAGE, {}, { 'WWW-Authenticate': 'Bearer' });
    }
    if (!result.token.scopes.includes(scope)) {
      gatewayMetrics.authFailures.inc({ transport: 'http', reason: `missing_scope_${scope}` });
      throw new HttpError(403, errorCodes.FORBIDDEN, `this token lacks the "${scope}" scope`);
    }
    return result.token;
  }

  private async postTexts(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const token = this.authorize(req, 'submit');
    const waitParam = url.searchParams.get('wait');
    let waitMs: number | undefined;
    if (waitParam !== null) {
      waitMs = Number(waitParam);
      if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > this.config.gateway.maxWaitMs) {
        throw new HttpError(
          400,
          httpErrorCodes.BAD_REQUEST,
          `wait must be an integer from 0 to ${this.config.gateway.maxWaitMs} (ms), got ${JSON.stringify(waitParam)}`,
        );
      }
    }
    const body = await readBody(req, this.config.gateway.maxMessageBytes);
    const parsed = parseJsonBody(body);
    const records = Array.isArray(parsed) ? parsed : isObject(parsed) && Array.isArray(parsed.texts) ? parsed.texts : [parsed];
    if (records.length === 0 || records.length > 100)
      throw new HttpError(400, errorCodes.BAD_MESSAGE, `send 1 to 100 texts per request, got ${records.length}`);
    this.takeHttpRate(token.id, records.length);
    const checked = validateTexts(records, this.config.producer, token.tenant, this.submitter.recent);
    if (!checked.ok)
      throw new HttpError(
        400,
        errorCodes.INVALID_TEXT,
        `${checked.rejections.length} of ${records.length} texts refused; nothing was sent`,
        { rejections: checked.rejections },
      );
    const ids = checked.events.map((e) => e.id);
    // Register the wait before sending, so a fast result is not missed.
    const expected = new Map<string, TaskName[]>(checked.events.map((e) => [e.id, expectedTasks(e, this.config.processor.defaultTasks)]));
    const waiting = waitMs !== undefined && waitMs > 0 ? this.hub.wait(token.tenant, expected, waitMs) : undefined;
    await this.submitter.send(checked.events);
    gatewayMetrics.submitted.inc({ transport: 'http' }, ids.length);
    if (!waiting) return sendJson(res, 202, { ids });
    const outcome = await waiting;
    sendJson(res, 200, { ids, results: outcome.results, complete: outcome.complete });
  }

  /** Counts `n` requests against the token's rate; throws HttpError 429 RATE_LIMITED (with Retry-After) over it. */
  private takeHttpRate(tokenId: string, n: number): void {
    const taken = this.limiter.take(tokenId, n);
    if (taken.ok) return;
    gatewayMetrics.rateLimited.inc({ transport: 'http' });
    throw new HttpError(
      429,
      errorCodes.RATE_LIMITED,
      `over ${this.config.gateway.requestsPerMinutePerToken} requests per minute for this token`,
      { retryAfterMs: taken.retryAfterMs },
      { 'Retry-After': String(Math.ceil(taken.retryAfterMs / 1000)) },
    );
  }

  private async postFeedback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const token = this.authorize(req, 'feedback');
    const body = await readBody(req, this.config.gateway.maxMessageBytes);
    const parsed = parseJsonBody(body);
    const records = Array.isArray(parsed) ? parsed : [parsed];
    if (records.length === 0 || records.length > MAX_FEEDBACK_PER_REQUEST)
      throw new HttpError(
        400,
        errorCodes.BAD_MESSAGE,
        `send 1 to ${MAX_FEEDBACK_PER_REQUEST} corrections per request, got ${records.length}`,
      );
    this.takeHttpRate(token.id, records.length);
    const checked = validateFeedbackBatch(records, this.config.producer, token, (id, task) => this.versions.get(token.tenant, id, task));
    if (!checked.ok) {
      for (const r of checked.rejections) gatewayMetrics.feedbackRejected.inc({ transport: 'http', code: r.code });
      const first = checked.rejections[0]!;
      throw new HttpError(
        400,
        errorCodes.INVALID_FEEDBACK,
        `${checked.rejections.length} of ${records.length} corrections refused (first: [${first.index}] ${first.code}: ${first.reason}); nothing was sent`,
        { rejections: checked.rejections },
      );
    }
    await this.feedback.send(checked.events);
    for (const e of checked.events) gatewayMetrics.feedbackAccepted.inc({ transport: 'http', task: e.task });
    sendJson(res, 202, {
      accepted: checked.events.map((e) => ({ id: e.id, task: e.task, source: e.source, modelVersion: e.modelVersion })),
    });
  }
}

function swaggerDir(): string {
  // swagger-ui-dist ships the built Swagger UI; no build step of ours (and no type declarations).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('swagger-ui-dist') as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();
}

const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trident gateway API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', tryItOutEnabled: true, persistAuthorization: true });</script>
</body></html>`;

function routeName(path: string): string {
  if (
    path === '/v1/texts' ||
    path === '/v1/feedback' ||
    path === '/healthz' ||
    path === '/readyz' ||
    path === '/metrics' ||
    path === '/openapi.json'
  )
    return path;
  if (path.startsWith('/docs')) return '/docs';
  if (staticFiles[path]) return '/';
  return 'other';
}

/** A request body as JSON; throws HttpError 400 BAD_JSON naming the parse error. */
function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, errorCodes.BAD_JSON, `body is not valid JSON: ${(error as Error).message}`);
  }
}
