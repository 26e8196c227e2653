/**
 * One error hierarchy for the whole project. Every error has a stable `code` (machine-readable,
 * used in dead letters, metrics and CLI exit messages), `retriable` (retry logic reads this and
 * nothing else) and an optional `cause`. Codes come from the tables in error-codes.ts.
 */
import { cliErrorCodes, modelErrorCodes, type DeadLetterCode, type ModelErrorCode } from './error-codes';

export interface TridentErrorOptions {
  retriable?: boolean;
  cause?: unknown;
}

export class TridentError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  override readonly cause?: unknown;

  constructor(code: string, message: string, options: TridentErrorOptions = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.cause = options.cause;
  }
}

/** A configuration value is missing or invalid; `key` is the dotted config key (e.g. `kafka.brokers`). */
export class ConfigError extends TridentError {
  constructor(
    readonly key: string,
    message: string,
    options: TridentErrorOptions = {},
  ) {
    super(cliErrorCodes.CONFIG_INVALID, `config ${key}: ${message}`, options);
  }
}

/** Where a Kafka message came from, carried by every error about one message. */
export interface MessageOrigin {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * A message that can never be processed (bad bytes, bad schema, bad content). It goes to the
 * dead-letter topic with its code and reason; retrying cannot help.
 */
export class InvalidMessageError extends TridentError {
  declare readonly code: DeadLetterCode;

  constructor(
    code: DeadLetterCode,
    readonly reason: string,
    readonly origin?: MessageOrigin,
    options: TridentErrorOptions = {},
  ) {
    super(code, origin ? `${origin.topic}[${origin.partition}]@${origin.offset}: ${reason}` : reason, { ...options, retriable: false });
  }
}

/** An input handed to the model cannot be processed (empty text, unknown task, …); names the input id. */
export class InvalidInputError extends TridentError {
  declare readonly code: ModelErrorCode;

  constructor(
    code: ModelErrorCode,
    readonly inputId: string,
    readonly reason: string,
    options: TridentErrorOptions = {},
  ) {
    super(code, `input ${JSON.stringify(inputId)}: ${reason}`, { ...options, retriable: false });
  }
}

/** A model artifact cannot be loaded (missing file, digest mismatch, wrong input names); names the file. */
export class ModelArtifactError extends TridentError {
  constructor(
    readonly file: string,
    message: string,
    options: TridentErrorOptions = {},
  ) {
    super(modelErrorCodes.MODEL_ARTIFACT_INVALID, `${file}: ${message}`, options);
  }
}

export function isRetriable(error: unknown): boolean {
  return error instanceof TridentError ? error.retriable : false;
}
