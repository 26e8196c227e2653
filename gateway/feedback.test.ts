import { configSchema } from '../common/config';
import { feedbackSource, ResultVersions, validateFeedback, validateFeedbackBatch } from './feedback';

const limits = configSchema.parse({}).producer;
const token = { id: '0123456789ab', name: 'web', tenant: 'acme' };
const text = 'Ada Lovelace worked in London.';
const now = 1_700_000_000_000;

function check(raw: unknown, known?: (id: string, task: string) => string | undefined) {
  return validateFeedback(raw, 0, limits, token, known, now);
}

function rejection(raw: unknown) {
  const r = check(raw);
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.event)}`);
  return r.rejection;
}

describe('validateFeedback', () => {
  it('turns a sentiment correction into a feedback event with the source from the token', () => {
    const r = check({ id: 't1', text, task: 'sentiment', label: 'negative', modelVersion: '1.2.0' });
    expect(r).toEqual({
      ok: true,
      event: {
        id: 't1',
        text,
        task: 'sentiment',
        head: null,
        label: 'negative',
        entities: [],
        answer: null,
        source: 'gateway:acme/web',
        modelVersion: '1.2.0',
        createdAt: now,
      },
    });
  });

  it('takes the model version of the result the gateway delivered over the client’s', () => {
    const r = check({ id: 't1', text, task: 'entities', entities: [], modelVersion: 'claimed' }, (id, task) =>
      id === 't1' && task === 'entities' ? '2.0.0' : undefined,
    );
    expect(r.ok && r.event.modelVersion).toBe('2.0.0');
    const unknown = check({ id: 't2', text, task: 'entities', entities: [] }, () => undefined);
    expect(unknown.ok && unknown.event.modelVersion).toBeNull();
  });

  it('accepts entity spans, an answer span, and a categories label with its head', () => {
    expect(check({ id: 'e', text, task: 'entities', entities: [{ label: 'PER', start: 0, end: 12 }] }).ok).toBe(true);
    expect(check({ id: 'a', text, task: 'answers', answer: { question: 'Where?', start: 23, end: 29 } }).ok).toBe(true);
    expect(check({ id: 'c', text, task: 'categories', head: 'support', label: 'billing' }).ok).toBe(true);
  });

  it('refuses a client-provided source instead of trusting or silently replacing it', () => {
    expect(rejection({ id: 't', text, task: 'sentiment', label: 'positive', source: 'admin' })).toEqual({
      index: 0,
      code: 'SOURCE_NOT_ALLOWED',
      reason: '"source" is set by the gateway from the token (gateway:acme/web); omit it',
    });
  });

  it('binds the correction to the token’s tenant', () => {
    expect(rejection({ id: 't', text, task: 'sentiment', label: 'positive', tenant: 'other' }).code).toBe('TENANT_MISMATCH');
    expect(check({ id: 't', text, task: 'sentiment', label: 'positive', tenant: 'acme' }).ok).toBe(true);
  });

  it.each([
    ['not an object', 'x', 'INVALID_FIELD', /JSON object/],
    ['no text', { id: 't', task: 'sentiment', label: 'positive' }, 'TEXT_MISSING', /missing "text"/],
    ['empty text', { id: 't', text: '', task: 'sentiment', label: 'positive' }, 'TEXT_EMPTY', /empty/],
    ['control characters', { id: 't', text: 'a\u0001b', task: 'sentiment', label: 'p' }, 'TEXT_CONTROL_CHARACTERS', /U\+0001/],
    ['an unknown task', { id: 't', text, task: 'summaries', label: 'x' }, 'TASK_UNKNOWN', /valid tasks/],
    ['sentiment without a label', { id: 't', text, task: 'sentiment' }, 'INVALID_FIELD', /needs a "label"/],
    ['a blank label', { id: 't', text, task: 'sentiment', label: '   ' }, 'INVALID_FIELD', /field "label"/],
    ['categories without a head', { id: 't', text, task: 'categories', label: 'billing' }, 'INVALID_FIELD', /needs a "head"/],
    [
      'an entity span past the text',
      { id: 't', text, task: 'entities', entities: [{ label: 'LOC', start: 23, end: 99 }] },
      'INVALID_FIELD',
      /outside the text/,
    ],
    ['an empty entity span', { id: 't', text, task: 'entities', entities: [{ label: 'LOC', start: 5, end: 5 }] }, 'INVALID_FIELD', /empty/],
    ['answers without an answer', { id: 't', text, task: 'answers' }, 'INVALID_FIELD', /needs an "answer"/],
    ['a misspelt field', { id: 't', text, task: 'sentiment', lable: 'positive' }, 'INVALID_FIELD', /unknown field "lable"/],
    ['an id too long', { id: 'x'.repeat(257), text, task: 'sentiment', label: 'positive' }, 'ID_TOO_LONG', /256/],
    ['a label too long', { id: 't', text, task: 'sentiment', label: 'x'.repeat(129) }, 'INVALID_FIELD', /field "label"/],
  ])('refuses %s', (_what, raw, code, reason) => {
    const r = rejection(raw);
    expect(r.code).toBe(code);
    expect(r.reason).toMatch(reason);
  });
});

describe('validateFeedbackBatch', () => {
  it('is all or nothing and lists every problem by index', () => {
    const good = { id: 'g', text, task: 'sentiment', label: 'positive' };
    expect(validateFeedbackBatch([good, good], limits, token).ok).toBe(true);
    const r = validateFeedbackBatch([good, { id: 'b', text, task: 'sentiment' }, { ...good, source: 'x' }], limits, token);
    expect(r).toEqual({
      ok: false,
      rejections: [
        expect.objectContaining({ index: 1, code: 'INVALID_FIELD' }),
        expect.objectContaining({ index: 2, code: 'SOURCE_NOT_ALLOWED' }),
      ],
    });
  });
});

describe('ResultVersions', () => {
  it('remembers per (tenant, id, task), forgets the oldest beyond its bound, ignores results without a version', () => {
    const v = new ResultVersions(2);
    v.note('acme', 'a', 'sentiment', '1.0.0');
    v.note('acme', 'a', 'entities', '1.0.1');
    v.note('acme', 'b', 'sentiment', null);
    expect(v.get('acme', 'a', 'sentiment')).toBe('1.0.0');
    expect(v.get('other', 'a', 'sentiment')).toBeUndefined();
    v.note('acme', 'c', 'sentiment', '1.0.2');
    expect(v.size).toBe(2);
    expect(v.get('acme', 'a', 'sentiment')).toBeUndefined();
    expect(v.get('acme', 'c', 'sentiment')).toBe('1.0.2');
  });
});

describe('feedbackSource', () => {
  it('names the tenant and the token', () => {
    expect(feedbackSource(token)).toBe('gateway:acme/web');
  });
});
