import { deliver, DeliveryTimeoutError } from './delivery';

const brokerDown = () =>
  Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true });

function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('deliver', () => {
  it('keeps sending the same batch through a broker outage until it is acknowledged', async () => {
    const c = clock();
    let attempts = 0;
    await deliver(
      async () => {
        attempts += 1;
        if (c.now() < 40_000) throw brokerDown(); // down for 40 s
      },
      { deliveryTimeoutMs: 120_000, ...c },
    );
    expect(attempts).toBeGreaterThan(5);
    expect(c.now()).toBeGreaterThanOrEqual(40_000);
  });

  it('gives up with DELIVERY_TIMEOUT once the delivery timeout has passed', async () => {
    const c = clock();
    const failure = await deliver(async () => Promise.reject(brokerDown()), { deliveryTimeoutMs: 20_000, ...c }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeliveryTimeoutError);
    expect(failure).toMatchObject({ code: 'DELIVERY_TIMEOUT' });
    expect(c.now()).toBeLessThanOrEqual(20_000);
  });

  it('does not retry a batch the broker refuses', async () => {
    let attempts = 0;
    const refused = Object.assign(new Error('too large'), {
      name: 'KafkaJSProtocolError',
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
    });
    await expect(
      deliver(
        async () => {
          attempts += 1;
          throw refused;
        },
        { deliveryTimeoutMs: 60_000, ...clock() },
      ),
    ).rejects.toBe(refused);
    expect(attempts).toBe(1);
  });
});
