// Generated from schemas/avro/entities.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type EntitiesResult = DevTrident.EntitiesResult;

export namespace DevTrident {
    export const EntitySchema = "{\"type\":\"record\",\"name\":\"Entity\",\"fields\":[{\"name\":\"label\",\"type\":\"string\"},{\"name\":\"text\",\"type\":\"string\"},{\"name\":\"start\",\"type\":\"int\",\"doc\":\"Offset into the input text, UTF-16 code units (JavaScript string index).\"},{\"name\":\"end\",\"type\":\"int\",\"doc\":\"Exclusive end offset; text === input.slice(start, end).\"},{\"name\":\"score\",\"type\":\"double\"}]}";
    export const EntityName = "dev.trident.Entity";
    export interface Entity {
        label: string;
        text: string;
        /**
         * Offset into the input text, UTF-16 code units (JavaScript string index).
         */
        start: number;
        /**
         * Exclusive end offset; text === input.slice(start, end).
         */
        end: number;
        score: number;
    }
    export const EntitiesResultSchema = "{\"type\":\"record\",\"name\":\"EntitiesResult\",\"namespace\":\"dev.trident\",\"doc\":\"Named entities of one input (topic trident.entities).\",\"fields\":[{\"name\":\"id\",\"type\":\"string\",\"doc\":\"The input event's id.\"},{\"name\":\"key\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"tenant\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"The input event's createdAt.\"},{\"name\":\"processedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"When the processor produced this result; end-to-end latency = processedAt - createdAt.\"},{\"name\":\"text\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The input text, when the processor is configured to include it (offsets index into it).\"},{\"name\":\"entities\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Entity\",\"fields\":[{\"name\":\"label\",\"type\":\"string\"},{\"name\":\"text\",\"type\":\"string\"},{\"name\":\"start\",\"type\":\"int\",\"doc\":\"Offset into the input text, UTF-16 code units (JavaScript string index).\"},{\"name\":\"end\",\"type\":\"int\",\"doc\":\"Exclusive end offset; text === input.slice(start, end).\"},{\"name\":\"score\",\"type\":\"double\"}]}}}]}";
    export const EntitiesResultName = "dev.trident.EntitiesResult";
    /**
     * Named entities of one input (topic trident.entities).
     */
    export interface EntitiesResult {
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
        entities: DevTrident.Entity[];
    }
}
