/**
 * Error codes, one table per domain. A code is what machines read (dead letters, metrics, the
 * gateway's error frames, the CLI's exit lines); the message is for people. Gateway protocol codes
 * live with the protocol (gateway/protocol.ts `errorCodes`), record rejections with the records
 * (producers/records.ts `rejectionCodes`).
 */

/** Configuration and command line. */
export const cliErrorCodes = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CLI_USAGE: 'CLI_USAGE',
} as const;

/** The model runtime: artifacts, the encoder worker, and inputs refused before any work. */
export const modelErrorCodes = {
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  MODEL_ARTIFACT_INVALID: 'MODEL_ARTIFACT_INVALID',
  MODEL_TASK_UNAVAILABLE: 'MODEL_TASK_UNAVAILABLE',
  MODEL_ENCODER_BUSY: 'MODEL_ENCODER_BUSY',
  MODEL_INFERENCE_FAILED: 'MODEL_INFERENCE_FAILED',
  MODEL_WORKER_DIED: 'MODEL_WORKER_DIED',
  MODEL_WORKER_MISSING: 'MODEL_WORKER_MISSING',
  MODEL_CLOSED: 'MODEL_CLOSED',
  INPUT_BAD_ID: 'INPUT_BAD_ID',
  INPUT_BAD_JSON: 'INPUT_BAD_JSON',
  INPUT_EMPTY_TEXT: 'INPUT_EMPTY_TEXT',
  INPUT_TEXT_TOO_LONG: 'INPUT_TEXT_TOO_LONG',
  INPUT_BAD_QUESTIONS: 'INPUT_BAD_QUESTIONS',
  INPUT_NO_TASKS: 'INPUT_NO_TASKS',
  /** The same rule and name as the dead-letter code. */
  TASK_UNKNOWN: 'TASK_UNKNOWN',
} as const;
export type ModelErrorCode = (typeof modelErrorCodes)[keyof typeof modelErrorCodes];

/** The schema registry and the Avro codec (the decode failures are also dead-letter codes). */
export const schemaErrorCodes = {
  EVENT_INVALID: 'EVENT_INVALID',
  REGISTRY_UNAVAILABLE: 'REGISTRY_UNAVAILABLE',
  SCHEMA_INCOMPATIBLE: 'SCHEMA_INCOMPATIBLE',
} as const;

/**
 * The `errorCode` of records on the dead-letter topic: a wire contract, so these names never change.
 * An event the model refuses carries INFERENCE_FAILED or the model's own code (modelErrorCodes).
 */
export const deadLetterCodes = {
  // decode
  NULL_VALUE: 'NULL_VALUE',
  NOT_AVRO: 'NOT_AVRO',
  SCHEMA_UNKNOWN: 'SCHEMA_UNKNOWN',
  SCHEMA_WRONG_TOPIC: 'SCHEMA_WRONG_TOPIC',
  AVRO_DECODE_FAILED: 'AVRO_DECODE_FAILED',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  // validate (the rules of common/event-validation.ts, whose textEventCodes a test keeps equal to these)
  ID_EMPTY: 'ID_EMPTY',
  ID_TOO_LONG: 'ID_TOO_LONG',
  TEXT_EMPTY: 'TEXT_EMPTY',
  TEXT_WHITESPACE: 'TEXT_WHITESPACE',
  TEXT_TOO_LARGE: 'TEXT_TOO_LARGE',
  TEXT_TOO_LONG_FOR_MODEL: 'TEXT_TOO_LONG_FOR_MODEL',
  TEXT_INVALID_UTF8: 'TEXT_INVALID_UTF8',
  TEXT_CONTROL_CHARACTERS: 'TEXT_CONTROL_CHARACTERS',
  TASKS_EMPTY: 'TASKS_EMPTY',
  TASK_UNKNOWN: 'TASK_UNKNOWN',
  QUESTIONS_TOO_MANY: 'QUESTIONS_TOO_MANY',
  QUESTION_EMPTY: 'QUESTION_EMPTY',
  QUESTION_TOO_LONG: 'QUESTION_TOO_LONG',
  QUESTION_INVALID_CHARACTERS: 'QUESTION_INVALID_CHARACTERS',
  ANSWERS_WITHOUT_QUESTIONS: 'ANSWERS_WITHOUT_QUESTIONS',
  METADATA_TOO_LARGE: 'METADATA_TOO_LARGE',
  CREATED_AT_INVALID: 'CREATED_AT_INVALID',
  DUPLICATE_ID: 'DUPLICATE_ID',
  // infer: an event the model fails on; a model-level failure keeps the model's code
  INFERENCE_FAILED: 'INFERENCE_FAILED',
  MODEL_INFERENCE_FAILED: 'MODEL_INFERENCE_FAILED',
  MODEL_TASK_UNAVAILABLE: 'MODEL_TASK_UNAVAILABLE',
  // learn: a feedback event the learner refuses (consumers/learner/validate-feedback.ts); the text and
  // task rules above (TEXT_EMPTY, TASK_UNKNOWN, QUESTION_EMPTY, …) keep their codes there too
  HEAD_MISSING: 'HEAD_MISSING',
  HEAD_UNKNOWN: 'HEAD_UNKNOWN',
  LABEL_MISSING: 'LABEL_MISSING',
  LABEL_UNKNOWN: 'LABEL_UNKNOWN',
  ENTITY_SPAN_OUT_OF_RANGE: 'ENTITY_SPAN_OUT_OF_RANGE',
  ENTITY_SPAN_OVERLAP: 'ENTITY_SPAN_OVERLAP',
  ENTITY_SPAN_NOT_ON_TOKEN_BOUNDARY: 'ENTITY_SPAN_NOT_ON_TOKEN_BOUNDARY',
  ANSWER_SPAN_OUT_OF_RANGE: 'ANSWER_SPAN_OUT_OF_RANGE',
  ANSWER_SPAN_EMPTY: 'ANSWER_SPAN_EMPTY',
} as const;
export type DeadLetterCode = (typeof deadLetterCodes)[keyof typeof deadLetterCodes];

/** The processor's own failures (not about one event). */
export const processorErrorCodes = {
  DLQ_RATE_EXCEEDED: 'DLQ_RATE_EXCEEDED',
  PRODUCER_FENCED: 'PRODUCER_FENCED',
} as const;

/** The learner's own failures (`trident learn`; not about one event). */
export const learnerErrorCodes = {
  /** No head trainer in this build (model/learn/candidate.ts is the placeholder). */
  LEARN_UNAVAILABLE: 'LEARN_UNAVAILABLE',
  LEARN_TRAINING_FAILED: 'LEARN_TRAINING_FAILED',
  LEARN_CHANGELOG_INVALID: 'LEARN_CHANGELOG_INVALID',
} as const;

/** The local stack (`trident stack …`). */
export const stackErrorCodes = {
  TOOL_MISSING: 'TOOL_MISSING',
  DOWNLOAD_FAILED: 'DOWNLOAD_FAILED',
  KAFKA_FORMAT_FAILED: 'KAFKA_FORMAT_FAILED',
  PORT_BUSY: 'PORT_BUSY',
  REGISTRY_MISSING: 'REGISTRY_MISSING',
  START_FAILED: 'START_FAILED',
  START_TIMEOUT: 'START_TIMEOUT',
  SECURE_SETUP_FAILED: 'SECURE_SETUP_FAILED',
  STACK_NOT_SECURE: 'STACK_NOT_SECURE',
} as const;

/** The head trainer (model/learn/): its tfjs backend and the arrays it is handed. */
export const trainerErrorCodes = {
  TFJS_BACKEND_UNAVAILABLE: 'TFJS_BACKEND_UNAVAILABLE',
  TRAIN_DATA_INVALID: 'TRAIN_DATA_INVALID',
} as const;
