/**
 * End to end through the real processor: a WebSocket client submits a text to the gateway,
 * `trident serve` (dist/, the tiny test model) processes it, and the client receives every task's
 * result. The model's outputs are random; the test checks the contracts (ids, offsets), not labels.
 */
import { processorEnv, startServe, stopServe, type ServeProcess } from './processor-harness';
import { startGateway, TestClient, type TestGateway } from './gateway-helpers';

describe('gateway end to end with trident serve', () => {
  let gw: TestGateway;
  let serve: ServeProcess;
  beforeAll(async () => {
    gw = await startGateway('gw-e2e');
    serve = await startServe(processorEnv(gw.env));
  });
  afterAll(async () => {
    if (serve) await stopServe(serve);
    await gw?.stop();
  });

  it('a WebSocket client submits a text and receives all four results from the processor', async () => {
    const client = await TestClient.connect(gw.ws, gw.token(['submit', 'subscribe']));
    await client.next((m) => m.type === 'welcome');
    const text = 'Ada Lovelace worked with Charles Babbage in London.';
    client.send({ type: 'submit', ref: 'e2e', text: { id: 'e2e-1', text, questions: ['Where did Ada work?'], key: 'k-e2e' } });
    expect(await client.next((m) => m.type === 'accepted')).toMatchObject({ ids: ['e2e-1'] });
    await client.next(() => new Set(client.results().map((r) => r.task)).size === 4, 60_000);
    const byTask = Object.fromEntries(client.results().map((r) => [r.task, r.data as unknown as Record<string, unknown>]));
    for (const data of Object.values(byTask))
      expect(data).toMatchObject({ id: 'e2e-1', key: 'k-e2e', modelName: expect.any(String), modelVersion: expect.any(String) });
    for (const e of byTask.entities!.entities as Array<{ text: string; start: number; end: number }>)
      expect(text.slice(e.start, e.end)).toBe(e.text);
    expect(byTask.answers!.answers).toEqual([expect.objectContaining({ question: 'Where did Ada work?' })]);
    expect(typeof byTask.sentiment!.label).toBe('string');
    client.close();
  });

  it('POST /v1/texts?wait returns the processor’s results, complete', async () => {
    const res = await fetch(`${gw.http}/v1/texts?wait=30000`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${gw.token(['submit'])}` },
      body: JSON.stringify({ id: 'e2e-http', text: 'Grace Hopper lived in Arlington.', tasks: ['sentiment', 'entities'] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { complete: boolean; results: Record<string, Record<string, unknown>> };
    expect(body.complete).toBe(true);
    expect(Object.keys(body.results['e2e-http']!).sort()).toEqual(['entities', 'sentiment']);
  });
});
