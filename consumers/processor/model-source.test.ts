import { SwappableModel, type ServedModel } from './model-source';

function model(version: string, log: string[]): ServedModel {
  return {
    identity: { name: 'm', version },
    digest: `d${version}`,
    run: async (inputs) => inputs.map((i) => ({ id: `${i.id}@${version}` })),
    close: async () => void log.push(`close ${version}`),
  };
}

describe('SwappableModel', () => {
  it('batches leased before a swap finish on the old model, which closes after the last of them', async () => {
    const log: string[] = [];
    const swappable = new SwappableModel(model('1', log));
    const a = swappable.acquire();
    const b = swappable.acquire();
    swappable.swap(model('2', log));
    const c = swappable.acquire();
    expect([a, b, c].map((l) => l.identity.version)).toEqual(['1', '1', '2']);
    expect(await a.run([{ id: 'x', text: 't' }], ['sentiment'])).toEqual([{ id: 'x@1' }]);
    a.release();
    a.release(); // a second release is harmless
    expect(log).toEqual([]);
    b.release();
    await swappable.retired();
    expect(log).toEqual(['close 1']);
    c.release();
    expect(log).toEqual(['close 1']);
  });

  it('closes an idle model at once on swap, and everything on close', async () => {
    const log: string[] = [];
    const swappable = new SwappableModel(model('1', log));
    swappable.swap(model('2', log));
    swappable.swap(model('3', log));
    await swappable.retired();
    expect(log).toEqual(['close 1', 'close 2']);
    expect(swappable.served.identity.version).toBe('3');
    await swappable.close();
    expect(log).toEqual(['close 1', 'close 2', 'close 3']);
  });
});
