import { errorCodes, errorMessage, MAX_ERROR_MESSAGE_CHARS, parseClientMessage, resultFrame } from './protocol';

const MAX = 10_000;
const ok = (frame: string) => {
  const r = parseClientMessage(frame, MAX);
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.message;
};
const err = (frame: string | Buffer, max = MAX) => {
  const r = parseClientMessage(frame, max);
  if (r.ok) throw new Error(`expected an error for ${String(frame)}`);
  return r.error;
};

describe('parseClientMessage', () => {
  it('accepts every valid message type', () => {
    expect(ok('{"v":1,"type":"auth","token":"trd_x"}')).toEqual({ v: 1, type: 'auth', token: 'trd_x' });
    expect(ok('{"v":1,"type":"subscribe","ref":"r1","tasks":["sentiment","entities"],"keys":["k"],"own":true}')).toMatchObject({
      type: 'subscribe',
      ref: 'r1',
      tasks: ['sentiment', 'entities'],
      keys: ['k'],
      own: true,
    });
    expect(ok('{"v":1,"type":"subscribe"}')).toMatchObject({ type: 'subscribe' });
    expect(ok('{"v":1,"type":"unsubscribe","subscription":"s1"}')).toMatchObject({ type: 'unsubscribe', subscription: 's1' });
    expect(ok('{"v":1,"type":"submit","text":{"text":"hello"}}')).toMatchObject({ type: 'submit', text: { text: 'hello' } });
    expect(ok('{"v":1,"type":"submit","texts":[{"text":"a"},{"text":"b","id":"x"}],"route":false}')).toMatchObject({
      texts: [{ text: 'a' }, { text: 'b', id: 'x' }],
      route: false,
    });
    expect(ok('{"v":1,"type":"ping","ref":"p"}')).toEqual({ v: 1, type: 'ping', ref: 'p' });
  });

  it.each<[string, string | Buffer, string, RegExp]>([
    ['not JSON', '{"v":1,', errorCodes.BAD_JSON, /not valid JSON/],
    ['empty frame', '', errorCodes.BAD_JSON, /not valid JSON/],
    ['a JSON array', '[1,2]', errorCodes.BAD_MESSAGE, /JSON object/],
    ['a JSON string', '"hello"', errorCodes.BAD_MESSAGE, /JSON object/],
    ['null', 'null', errorCodes.BAD_MESSAGE, /JSON object/],
    ['no version', '{"type":"ping"}', errorCodes.UNSUPPORTED_VERSION, /missing "v"/],
    ['a future version', '{"v":2,"type":"ping"}', errorCodes.UNSUPPORTED_VERSION, /version 2 is not supported/],
    ['version as a string', '{"v":"1","type":"ping"}', errorCodes.UNSUPPORTED_VERSION, /not supported/],
    ['no type', '{"v":1}', errorCodes.BAD_MESSAGE, /missing "type"/],
    ['an unknown type', '{"v":1,"type":"explode"}', errorCodes.UNKNOWN_TYPE, /valid types: auth, subscribe/],
    ['a prototype key as type', '{"v":1,"type":"constructor"}', errorCodes.UNKNOWN_TYPE, /unknown message type/],
    ['an unknown task', '{"v":1,"type":"subscribe","tasks":["translate"]}', errorCodes.BAD_MESSAGE, /field "tasks.0"/],
    ['an empty task list', '{"v":1,"type":"subscribe","tasks":[]}', errorCodes.BAD_MESSAGE, /tasks/],
    ['keys not strings', '{"v":1,"type":"subscribe","keys":[1]}', errorCodes.BAD_MESSAGE, /field "keys.0"/],
    ['an extra field', '{"v":1,"type":"ping","extra":1}', errorCodes.BAD_MESSAGE, /unknown field "extra"/],
    ['submit with neither text nor texts', '{"v":1,"type":"submit"}', errorCodes.BAD_MESSAGE, /exactly one of "text" or "texts"/],
    ['submit with both', '{"v":1,"type":"submit","text":{"text":"a"},"texts":[{"text":"b"}]}', errorCodes.BAD_MESSAGE, /exactly one/],
    ['submit texts not objects', '{"v":1,"type":"submit","texts":["a"]}', errorCodes.BAD_MESSAGE, /field "texts.0"/],
    ['unsubscribe without id', '{"v":1,"type":"unsubscribe"}', errorCodes.BAD_MESSAGE, /subscription/],
    ['auth with an empty token', '{"v":1,"type":"auth","token":""}', errorCodes.BAD_MESSAGE, /token/],
    ['invalid UTF-8 in a binary frame', Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), errorCodes.BAD_JSON, /not valid JSON/],
  ])('%s → %s', (_name, frame, code, message) => {
    const e = err(frame);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('refuses frames over the size limit before parsing them', () => {
    const e = err(JSON.stringify({ v: 1, type: 'submit', text: { text: 'x'.repeat(200) } }), 100);
    expect(e.code).toBe(errorCodes.MESSAGE_TOO_LARGE);
    expect(e.message).toMatch(/over the maximum of 100/);
  });

  it('echoes the ref of a message it can read', () => {
    expect(err('{"v":1,"type":"subscribe","ref":"abc","tasks":["nope"]}').ref).toBe('abc');
    expect(err('{"v":3,"type":"ping","ref":"r"}').ref).toBe('r');
    expect(err('{"v":1,').ref).toBeUndefined();
  });

  it('serialises a result frame once with version and task', () => {
    expect(JSON.parse(resultFrame('sentiment', { id: 'a', label: 'positive' }))).toEqual({
      v: 1,
      type: 'result',
      task: 'sentiment',
      data: { id: 'a', label: 'positive' },
    });
  });

  it('names at most three unknown keys, each cut short, so a reply stays small whatever the frame', () => {
    const junk = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`${i}-${'x'.repeat(1000)}`, i]));
    const r = parseClientMessage(JSON.stringify({ v: 1, type: 'ping', ref: 'j', ...junk }), 10_000_000);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('BAD_MESSAGE');
    expect(r.error.message).toMatch(/unknown field .* and 4997 more$/);
    expect(r.error.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS + 1);
    expect(JSON.stringify(errorMessage('BAD_MESSAGE', 'y'.repeat(100_000))).length).toBeLessThan(1024);
  });
});
