import { driftedKinds, generateTypes } from './codegen';

describe('generated TypeScript types', () => {
  it('match the .avsc files (run `npm run schemas:types` after changing a schema)', () => {
    expect(driftedKinds()).toEqual([]);
  });

  it('are generated from the schema, not hand-written', () => {
    expect(generateTypes('text')).toContain('export interface TextEvent');
    expect(generateTypes('entities')).toMatch(/start: number;/);
  });
});
