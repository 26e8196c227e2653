/**
 * Corrections through the gateway (POST /v1/feedback and the WebSocket `feedback` message) against
 * the real broker and registry: refused without a token (401) or the feedback scope (403), refused
 * when invalid (400, nothing produced), and otherwise on the test's feedback topic, decoded with
 * the registry's schema, with the source from the token and the model version of the delivered
 * result. A stand-in plays the processor (its results carry modelVersion "test").
 */
import type { FeedbackEvent } from '../../schemas/generated/feedback';
import { startGateway, startStandInProcessor, TestClient, type TestGateway } from './gateway-helpers';
import { readTopic } from './processor-harness';

describe('gateway: feedback', () => {
  let gw: TestGateway;
  let standIn: Awaited<ReturnType<typeof startStandInProcessor>>;
  beforeAll(async () => {
    gw = await startGateway('gw-feedback');
    standIn = await startStandInProcessor(gw.config);
  });
  afterAll(async () => {
    await standIn?.stop();
    await gw?.stop();
  });

  const postFeedback = (token: string | undefined, body: unknown) =>
    fetch(`${gw.http}/v1/feedback`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const text = 'Ada Lovelace worked in London.';

  it('refuses without a token (401), without the feedback scope (403) and invalid corrections (400); sends valid ones over HTTP and WebSocket', async () => {
    const correction = { id: 'refused', text, task: 'sentiment', label: 'negative' };

    const none = await postFeedback(undefined, correction);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const wrong = await postFeedback('trd_000000000000_' + 'A'.repeat(43), correction);
    expect(wrong.status).toBe(401);
    const noScope = await postFeedback(gw.token(['submit', 'subscribe'], 'acme'), correction);
    expect(noScope.status).toBe(403);
    expect(await noScope.json()).toEqual({ error: { code: 'FORBIDDEN', message: 'this token lacks the "feedback" scope' } });

    const { token, record } = gw.tokens.create(['submit', 'feedback'], 'reviewer', 'acme');
    const invalid = await postFeedback(token, [
      { id: 'bad-1', text, task: 'entities', entities: [{ label: 'LOC', start: 23, end: 99 }] },
      { id: 'bad-2', text, task: 'sentiment', label: 'negative', source: 'someone-else' },
    ]);
    expect(invalid.status).toBe(400);
    const invalidBody = (await invalid.json()) as {
      error: { code: string; message: string; rejections: Array<{ index: number; code: string }> };
    };
    expect(invalidBody.error.code).toBe('INVALID_FEEDBACK');
    expect(invalidBody.error.message).toMatch(/2 of 2 corrections refused .*outside the text.*nothing was sent/);
    expect(invalidBody.error.rejections.map((r) => [r.index, r.code])).toEqual([
      [0, 'INVALID_FIELD'],
      [1, 'SOURCE_NOT_ALLOWED'],
    ]);
    const notJson = await fetch(`${gw.http}/v1/feedback`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: '{oops' });
    expect(notJson.status).toBe(400);

    // A text submitted and processed: the correction of its result gets the result's model version.
    const submitted = await fetch(`${gw.http}/v1/texts?wait=20000`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ id: 'corrected-1', text, tasks: ['sentiment', 'entities'] }),
    });
    expect(((await submitted.json()) as { complete: boolean }).complete).toBe(true);
    const accepted = await postFeedback(token, { id: 'corrected-1', text, task: 'sentiment', label: 'negative', modelVersion: 'claimed' });
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({
      accepted: [{ id: 'corrected-1', task: 'sentiment', source: `gateway:acme/${record.name}`, modelVersion: 'test' }],
    });
    const spans = await postFeedback(token, {
      id: 'unseen-1',
      text,
      task: 'entities',
      entities: [
        { label: 'PER', start: 0, end: 12 },
        { label: 'LOC', start: 23, end: 29 },
      ],
    });
    expect(spans.status).toBe(202);

    // Over the socket, with a feedback-only token.
    const client = await TestClient.connect(gw.ws, gw.token(['feedback'], 'acme'));
    await client.next((m) => m.type === 'welcome');
    client.send({
      type: 'feedback',
      ref: 'q',
      feedback: { id: 'ws-1', text, task: 'answers', answer: { question: 'Where?', start: 23, end: 29 } },
    });
    expect(await client.next((m) => m.type === 'feedbackAccepted')).toMatchObject({
      ref: 'q',
      id: 'ws-1',
      task: 'answers',
      modelVersion: null,
    });
    client.send({ type: 'feedback', ref: 'r', feedback: { id: 'ws-2', text, task: 'categories', label: 'billing' } });
    expect(await client.next((m) => m.type === 'error')).toMatchObject({ ref: 'r', code: 'INVALID_FEEDBACK' });
    client.close();

    // Exactly the accepted ones are on the feedback topic, decoded with the registered schema.
    const events = await readTopic<FeedbackEvent>(gw.config, 'feedback', 3, { settleMs: 2000, timeoutMs: 60_000 });
    expect(events.map((e) => e.id).sort()).toEqual(['corrected-1', 'unseen-1', 'ws-1']);
    const byId = new Map(events.map((e) => [e.id, e]));
    expect(byId.get('corrected-1')).toMatchObject({
      text,
      task: 'sentiment',
      label: 'negative',
      head: null,
      entities: [],
      answer: null,
      source: `gateway:acme/${record.name}`,
      modelVersion: 'test',
    });
    expect(byId.get('unseen-1')).toMatchObject({
      task: 'entities',
      entities: [
        { label: 'PER', start: 0, end: 12 },
        { label: 'LOC', start: 23, end: 29 },
      ],
      modelVersion: null,
    });
    expect(byId.get('ws-1')).toMatchObject({
      task: 'answers',
      answer: { question: 'Where?', start: 23, end: 29 },
      source: expect.stringMatching(/^gateway:acme\//),
    });

    const metrics = await (await fetch(`${gw.http}/metrics`)).text();
    expect(metrics).toMatch(/trident_gateway_feedback_accepted_total\{transport="http",task="sentiment"\} [1-9]/);
    expect(metrics).toMatch(/trident_gateway_feedback_rejected_total\{transport="http",code="SOURCE_NOT_ALLOWED"\} [1-9]/);
    expect(metrics).toMatch(/trident_gateway_auth_failures_total\{transport="http",reason="missing_scope_feedback"\} [1-9]/);
  });
});
