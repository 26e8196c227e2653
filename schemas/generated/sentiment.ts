// Generated from schemas/avro/sentiment.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type SentimentResult = DevTrident.SentimentResult;

export namespace DevTrident {
    export const SentimentResultSchema = "{\"type\":\"record\",\"name\":\"SentimentResult\",\"namespace\":\"dev.trident\",\"doc\":\"Sentiment of one input (topic trident.sentiment).\",\"fields\":[{\"name\":\"id\",\"type\":\"string\",\"doc\":\"The input event's id.\"},{\"name\":\"key\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"tenant\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"The input event's createdAt.\"},{\"name\":\"processedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"When the processor produced this result; end-to-end latency = processedAt - createdAt.\"},{\"name\":\"label\",\"type\":\"string\"},{\"name\":\"scores\",\"type\":{\"type\":\"map\",\"values\":\"double\"},\"doc\":\"Probability per label.\"}]}";
    export const SentimentResultName = "dev.trident.SentimentResult";
    /**
     * Sentiment of one input (topic trident.sentiment).
     */
    export interface SentimentResult {
        /**
         * The input event's id.
         */
        id: string;
        /**
         * Default: null
         */
        key: null | string;
        /**
         * Default: null
         */
        tenant: null | string;
        modelName: string;
        modelVersion: string;
        /**
         * The input event's createdAt.
         */
        createdAt: number;
        /**
         * When the processor produced this result; end-to-end latency = processedAt - createdAt.
         */
        processedAt: number;
        label: string;
        /**
         * Probability per label.
         */
        scores: {
            [index: string]: number;
        };
    }
}
