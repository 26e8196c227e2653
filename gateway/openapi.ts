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
        'Submit texts to Trident and get their sentiment, entities, answers and categories. Live result streams are on the WebSocket endpoint `/v1/ws` (protocol in gateway/README.md). Create a token with `trident token create --scopes submit,subscribe`.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token from `trident token create`.' } },
      schemas: {
        TextRecord: textRecord,
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
