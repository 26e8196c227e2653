// Generated from schemas/avro/answers.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type AnswersResult = DevTrident.AnswersResult;

export namespace DevTrident {
    export const AnswerSchema = "{\"type\":\"record\",\"name\":\"Answer\",\"fields\":[{\"name\":\"question\",\"type\":\"string\"},{\"name\":\"answer\",\"type\":[\"null\",\"string\"],\"doc\":\"null = no answer above the model's threshold.\"},{\"name\":\"start\",\"type\":[\"null\",\"int\"]},{\"name\":\"end\",\"type\":[\"null\",\"int\"]},{\"name\":\"score\",\"type\":\"double\"}]}";
    export const AnswerName = "dev.trident.Answer";
    export interface Answer {
        question: string;
        /**
         * null = no answer above the model's threshold.
         */
        answer: null | string;
        start: null | number;
        end: null | number;
        score: number;
    }
    export const AnswersResultSchema = "{\"type\":\"record\",\"name\":\"AnswersResult\",\"namespace\":\"dev.trident\",\"doc\":\"Extractive answers, one per question (topic trident.answers).\",\"fields\":[{\"name\":\"id\",\"type\":\"string\",\"doc\":\"The input event's id.\"},{\"name\":\"key\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"tenant\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"The input event's createdAt.\"},{\"name\":\"processedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"When the processor produced this result; end-to-end latency = processedAt - createdAt.\"},{\"name\":\"text\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The input text, when the processor is configured to include it (offsets index into it).\"},{\"name\":\"answers\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Answer\",\"fields\":[{\"name\":\"question\",\"type\":\"string\"},{\"name\":\"answer\",\"type\":[\"null\",\"string\"],\"doc\":\"null = no answer above the model's threshold.\"},{\"name\":\"start\",\"type\":[\"null\",\"int\"]},{\"name\":\"end\",\"type\":[\"null\",\"int\"]},{\"name\":\"score\",\"type\":\"double\"}]}}}]}";
    export const AnswersResultName = "dev.trident.AnswersResult";
    /**
     * Extractive answers, one per question (topic trident.answers).
     */
    export interface AnswersResult {
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
        /**
         * The input text, when the processor is configured to include it (offsets index into it).
         *
         * Default: null
         */
        text: null | string;
        answers: DevTrident.Answer[];
    }
}
