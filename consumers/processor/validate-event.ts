/**
 * The processor's checks of one message before any inference: the shared text event rules
 * (common/event-validation.ts) and the size of the message's headers. Pure.
 */
export {
  checkTextEvent as checkEvent,
  DEFAULT_TEXT_EVENT_LIMITS as DEFAULT_EVENT_LIMITS,
  type TextEventLimits as EventLimits,
} from '../../common/event-validation';

/** Total size of a message's headers (keys + values), for the HEADERS_TOO_LARGE rule. */
export function headerBytes(headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined): number {
  let total = 0;
  for (const [key, value] of Object.entries(headers ?? {})) {
    total += Buffer.byteLength(key);
    for (const v of Array.isArray(value) ? value : [value])
      if (v !== undefined) total += typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  }
  return total;
}
