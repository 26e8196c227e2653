/** Helpers for the gateway's integration tests: a gateway on a free port, WebSocket clients, a stand-in processor. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Consumer } from 'kafkajs';
import WebSocket from 'ws';
import type { TridentConfig } from '../../common/config';
import { createKafka } from '../../common/kafka';
import { TridentProducer } from '../../producers/producer';
import { EventCodec } from '../../schemas/codec';
import type { TextEvent } from '../../schemas/generated/text';
import { Gateway } from '../../gateway/server';
import { TokenStore, type Scope } from '../../gateway/tokens';
import { createTestTopics, testConfig } from './harness';

export interface TestGateway {
  gateway: Gateway;
  config: TridentConfig;
  env: NodeJS.ProcessEnv;
  tokens: TokenStore;
  http: string;
  ws: string;
  token(scopes: Scope[], tenant?: string): string;
  stop(): Promise<void>;
}

/** A gateway on its own topics and token file, listening on a free port, reading results. */
export async function startGateway(
  prefix: string,
  gatewayOverrides: Record<string, unknown> = {},
  shared?: { config: TridentConfig; env: NodeJS.ProcessEnv },
): Promise<TestGateway> {
  const tokensFile = join(mkdtempSync(join(tmpdir(), 'trident-gw-')), 'tokens.json');
  const made = shared ?? testConfig(prefix, { gateway: { port: 0, tokensFile, heartbeatMs: 1000, ...gatewayOverrides } });
  const { config, env } = made;
  if (!shared) await createTestTopics(config);
  const gateway = Gateway.fromConfig(config);
  const { port } = await gateway.start();
  if (!(await gateway.whenReading(60_000))) throw new Error('gateway did not start reading results');
  const tokens = new TokenStore(config.gateway.tokensFile);
  return {
    gateway,
    config,
    env: { ...env, TRIDENT_GATEWAY_TOKENS_FILE: config.gateway.tokensFile },
    tokens,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}/v1/ws`,
    token: (scopes, tenant) => tokens.create(scopes, undefined, tenant).token,
    stop: () => gateway.stop(),
  };
}

export interface ServerMessage {
  type: string;
  [key: string]: unknown;
}

/** A WebSocket client that records every message and waits for the ones a test expects. */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()) as ServerMessage);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => undefined);
  }

  /** Connects with a token as the subprotocol (like the page), as a bearer header, or with none. */
  static async connect(url: string, token?: string, via: 'subprotocol' | 'header' | 'none' = 'subprotocol'): Promise<TestClient> {
    const ws =
      via === 'header'
        ? new WebSocket(url, ['trident.v1'], { headers: { Authorization: `Bearer ${token}` } })
        : via === 'subprotocol' && token !== undefined
          ? new WebSocket(url, ['trident.v1', `bearer.${token}`])
          : new WebSocket(url, ['trident.v1']);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return client;
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify({ v: 1, ...message }));
  }

  /** The first message (from `from` on) matching, waiting up to `timeoutMs`. */
  async next(match: (m: ServerMessage) => boolean, timeoutMs = 30_000, from = 0): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  results(): Array<{ task: string; data: { id: string; key: string | null } }> {
    return this.messages.filter((m) => m.type === 'result') as never;
  }

  close(): void {
    this.ws.close();
  }
}

export function resultHeader(input: { id: string; key: string | null; tenant?: string | null; createdAt?: number }) {
  return {
    id: input.id,
    key: input.key,
    tenant: input.tenant ?? null,
    modelName: 'stand-in',
    modelVersion: 'test',
    createdAt: input.createdAt ?? Date.now(),
    processedAt: Date.now(),
  };
}

/** Publishes result events straight to the result topics (the processor's job, played by the test). */
export class ResultPublisher {
  readonly producer: TridentProducer;

  constructor(config: TridentConfig) {
    this.producer = new TridentProducer(createKafka(config, 'trident-test-results'), EventCodec.fromConfig(config), config);
  }

  sentiment(id: string, key: string | null, label = 'positive', tenant: string | null = null) {
    return { kind: 'sentiment' as const, key: key ?? id, event: { ...resultHeader({ id, key, tenant }), label, scores: { [label]: 0.9 } } };
  }

  entities(
    id: string,
    key: string | null,
    text: string,
    entities: Array<{ label: string; start: number; end: number }>,
    tenant: string | null = null,
  ) {
    return {
      kind: 'entities' as const,
      key: key ?? id,
      event: {
        ...resultHeader({ id, key, tenant }),
        text,
        entities: entities.map((e) => ({ ...e, text: text.slice(e.start, e.end), score: 0.95 })),
      },
    };
  }

  answers(id: string, key: string | null, text: string, question: string, start: number, end: number, tenant: string | null = null) {
    return {
      kind: 'answers' as const,
      key: key ?? id,
      event: {
        ...resultHeader({ id, key, tenant }),
        text,
        answers: [{ question, answer: text.slice(start, end), start, end, score: 0.8 }],
      },
    };
  }

  async send(events: Parameters<TridentProducer['send']>[0]): Promise<void> {
    await this.producer.send(events);
  }

  close(): Promise<void> {
    return this.producer.disconnect();
  }
}

/** Finds capitalised words: the stand-in processor's "entities" (PER for the first, LOC after "in"). */
export function standInEntities(text: string): Array<{ label: string; start: number; end: number }> {
  const out: Array<{ label: string; start: number; end: number }> = [];
  for (const m of text.matchAll(/\b[A-Z][a-z]+(?: [A-Z][a-z]+)*/g)) {
    const before = text.slice(Math.max(0, m.index - 3), m.index);
    out.push({ label: before === 'in ' ? 'LOC' : 'PER', start: m.index, end: m.index + m[0].length });
  }
  return out;
}

/**
 * Stands in for the processor (issue 6) until it lands: reads the test's text topic and publishes a
 * sentiment and an entities result for every text event.
 */
export async function startStandInProcessor(config: TridentConfig): Promise<{ seen: TextEvent[]; stop(): Promise<void> }> {
  const kafka = createKafka(config, 'trident-test-processor');
  const codec = EventCodec.fromConfig(config);
  const publisher = new ResultPublisher(config);
  const consumer: Consumer = kafka.consumer({ groupId: `stand-in-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const seen: TextEvent[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: config.topics.text, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = await codec.decode('text', message.value);
      seen.push(event);
      const tasks = event.tasks ?? ['sentiment', 'entities'];
      const out: Parameters<TridentProducer['send']>[0] = [];
      // Like the processor, results carry the input's tenant.
      if (tasks.includes('sentiment'))
        out.push(publisher.sentiment(event.id, event.key, /bad|awful/i.test(event.text) ? 'negative' : 'positive', event.tenant));
      if (tasks.includes('entities'))
        out.push(publisher.entities(event.id, event.key, event.text, standInEntities(event.text), event.tenant));
      if (tasks.includes('answers') && event.questions[0]) {
        const at = event.text.lastIndexOf(' ') + 1;
        out.push(
          publisher.answers(event.id, event.key, event.text, event.questions[0], at, event.text.replace(/[.!?]$/, '').length, event.tenant),
        );
      }
      await publisher.send(out);
    },
  });
  return {
    seen,
    stop: async () => {
      await consumer.disconnect();
      await publisher.close();
    },
  };
}
