/** The gateway's OpenAPI 3.1 document, served at /openapi.json and rendered at /docs. */
import { builtInTasks } from '../common/tasks';

export function openApiDocument(maxWaitMs: number): Record<string, unknown> {
  const textRecord = {
    type: 'object',
    required: ['text'],
    properties: {
      id: { type: 'string', description: 'Your id for the text (default: a random UUID); results carry it back.' },
      text: { type: 'string', description: 'At most producer.maxTextBytes bytes of UTF-8.' },
      tasks: { type: 'array', items: { type: 'string', enum: builtInTasks }, description: 'Default: the processor’s default tasks.' },
      questions: { type: 'array', items: { type: 'string' }, description: 'Questions for the answers task.' },
      key: { type: 'string', nullable: true, description: 'Partition key; results keep it (subscribers can filter by it).' },
      tenant: {
        type: 'string',
        nullable: true,
        description: 'Set by the gateway to the token’s tenant; omit it (another tenant is refused with TENANT_MISMATCH).',
      },
      metadata: { type: 'object', additionalProperties: { type: 'string' } },
    },
  };
  const span = (what: string) => ({
    type: 'object',
    required: ['start', 'end'],
    properties: {
      start: { type: 'integer', minimum: 0, description: `UTF-16 offset of the ${what}'s first character in text.` },
      end: { type: 'integer', minimum: 0, description: 'UTF-16 offset just past its last character (end > start, end ≤ text length).' },
    },
  });
  const feedbackRecord = {
    type: 'object',
    required: ['text', 'task'],
    additionalProperties: false,
    properties: {
      id: { type: 'string', maxLength: 256, description: 'The id of the text whose result this corrects (default: a random UUID).' },
      text: { type: 'string', description: 'The text, as submitted (the same rules as a submitted text).' },
      task: { type: 'string', enum: builtInTasks },
      head: { type: 'string', maxLength: 128, description: 'categories: the head (e.g. banking77).' },
      label: { type: 'string', maxLength: 128, description: 'sentiment and categories: the right label (a categories label may be new).' },
      entities: {
        type: 'array',
        maxItems: 1000,
        description: 'entities: every gold span of the text (an empty list says it has none).',
        items: {
          allOf: [span('entity'), { type: 'object', required: ['label'], properties: { label: { type: 'string', maxLength: 128 } } }],
        },
      },
      answer: {
        description: 'answers: the question and its gold span in text.',
        allOf: [span('answer'), { type: 'object', required: ['question'], properties: { question: { type: 'string' } } }],
      },
      modelVersion: {
        type: 'string',
        maxLength: 128,
        description:
          'The version of the model whose result this corrects; the gateway uses the version of the result it delivered when it has one.',
      },
      tenant: { type: 'string', description: 'Omit it: the token’s tenant (another is refused with TENANT_MISMATCH).' },
    },
  };
  const error = {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: {
          code: { type: 'string' },
          message: { type: 'string' },
          rejections: {
            type: 'array',
            items: { type: 'object', properties: { index: { type: 'integer' }, code: { type: 'string' }, reason: { type: 'string' } } },
          },
          retryAfterMs: { type: 'integer' },
          requestId: { type: 'string', description: 'With 503: the id under which the gateway logged the failure.' },
        },
      },
    },
  };
  const errorResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Trident gateway',
      version: '1.0.0',
      description:
        'Submit texts to Trident and get their sentiment, entities, answers and categories. Live result streams are on the WebSocket endpoint `/v1/ws` (protocol in gateway/README.md). Create a token with `trident token create --scopes submit,subscribe` (add `feedback` to send corrections).',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token from `trident token create`.' } },
      schemas: {
        TextRecord: textRecord,
        FeedbackRecord: feedbackRecord,
        Error: error,
        Submitted: {
          type: 'object',
          required: ['ids'],
          properties: {
            ids: { type: 'array', items: { type: 'string' } },
            results: {
              type: 'object',
              description: 'With ?wait: id → task → result event (as on the task’s topic).',
              additionalProperties: { type: 'object' },
            },
            complete: { type: 'boolean', description: 'With ?wait: every expected result arrived before the wait ended.' },
          },
        },
      },
    },
    paths: {
      '/v1/texts': {
        post: {
          summary: 'Submit one or many texts',
          description:
            'All or nothing: when any text is invalid, nothing is sent and the response lists every problem. Needs the `submit` scope.',
          security: [{ bearer: [] }],
          parameters: [
            {
              name: 'wait',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 0, maximum: maxWaitMs },
              description: `Wait up to this many milliseconds (at most ${maxWaitMs}) for the results and return them.`,
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/TextRecord' },
                    {
                      type: 'object',
                      required: ['texts'],
                      properties: { texts: { type: 'array', items: { $ref: '#/components/schemas/TextRecord' }, maxItems: 100 } },
                    },
                    { type: 'array', items: { $ref: '#/components/schemas/TextRecord' }, maxItems: 100 },
                  ],
                },
                example: { text: 'Ada Lovelace worked in London.', tasks: ['entities', 'sentiment'] },
              },
            },
          },
          responses: {
            '202': {
              description: 'Accepted (no wait).',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Submitted' } } },
            },
            '200': {
              description: 'Accepted, with the results that arrived within the wait.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Submitted' } } },
            },
            '400': errorResponse('Invalid JSON or invalid texts (see rejections).'),
            '401': errorResponse('Missing or wrong token.'),
            '403': errorResponse('The token lacks the submit scope.'),
            '413': errorResponse('Body over gateway.maxMessageBytes.'),
            '429': errorResponse('Over the token’s rate limit (Retry-After header).'),
            '503': errorResponse('Kafka or the schema registry is unavailable.'),
          },
        },
      },
      '/v1/feedback': {
        post: {
          summary: 'Correct a result: send a labeled example to the feedback topic',
          description:
            'One correction or a JSON array of 1–100, all or nothing. Each becomes a feedback event (schemas/avro/feedback.avsc) on the feedback topic, keyed by id, with `source` = `gateway:<tenant>/<token name>` (a client-sent `source` is refused with SOURCE_NOT_ALLOWED). Needs the `feedback` scope.',
          security: [{ bearer: [] }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  oneOf: [
                    { $ref: '#/components/schemas/FeedbackRecord' },
                    { type: 'array', items: { $ref: '#/components/schemas/FeedbackRecord' }, minItems: 1, maxItems: 100 },
                  ],
                },
                example: { id: '5f0c…', text: 'Ada Lovelace worked in London.', task: 'sentiment', label: 'negative' },
              },
            },
          },
          responses: {
            '202': {
              description: 'Acknowledged by Kafka on the feedback topic.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      accepted: {
                        type: 'array',
                        items: {
                          type: 'object',
                          properties: {
                            id: { type: 'string' },
                            task: { type: 'string' },
                            source: { type: 'string' },
                            modelVersion: { type: ['string', 'null'] },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            '400': errorResponse('Invalid JSON or invalid corrections (INVALID_FEEDBACK, see rejections); nothing was sent.'),
            '401': errorResponse('Missing or wrong token.'),
            '403': errorResponse('The token lacks the feedback scope.'),
            '413': errorResponse('Body over gateway.maxMessageBytes.'),
            '429': errorResponse('Over the token’s rate limit (Retry-After header).'),
            '503': errorResponse('Kafka or the schema registry is unavailable.'),
          },
        },
      },
      '/healthz': { get: { summary: 'Liveness: the process answers', responses: { '200': { description: 'Alive.' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness: Kafka, the schema registry and the result stream answer',
          responses: { '200': { description: 'Ready.' }, '503': { description: 'Not ready; the body says which check failed.' } },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format.' } } } },
    },
  };
}
