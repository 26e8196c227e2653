// Generated from schemas/avro/dlq.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type DeadLetter = DevTrident.DeadLetter;

export namespace DevTrident {
    export const DeadLetterSchema = "{\"type\":\"record\",\"name\":\"DeadLetter\",\"namespace\":\"dev.trident\",\"doc\":\"An event that could not be processed (topic trident.dlq), with everything needed to replay it.\",\"fields\":[{\"name\":\"sourceTopic\",\"type\":\"string\"},{\"name\":\"sourcePartition\",\"type\":\"int\"},{\"name\":\"sourceOffset\",\"type\":\"string\",\"doc\":\"Kafka offset (int64 as decimal string).\"},{\"name\":\"key\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"doc\":\"The original key bytes.\"},{\"name\":\"value\",\"type\":[\"null\",\"bytes\"],\"default\":null,\"doc\":\"The original value bytes (null for a tombstone).\"},{\"name\":\"headers\",\"type\":{\"type\":\"map\",\"values\":\"bytes\"},\"default\":{}},{\"name\":\"eventId\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The event's id when it could be read.\"},{\"name\":\"errorCode\",\"type\":\"string\",\"doc\":\"Stable code, e.g. TEXT_EMPTY, SCHEMA_UNKNOWN.\"},{\"name\":\"reason\",\"type\":\"string\",\"doc\":\"Human-readable reason.\"},{\"name\":\"stage\",\"type\":\"string\",\"doc\":\"The stage that failed: decode, validate, infer, produce.\"},{\"name\":\"failedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},{\"name\":\"valueBytes\",\"type\":[\"null\",\"long\"],\"default\":null,\"doc\":\"Set when value holds only the first bytes of the original (too large to copy whole): the original's length.\"},{\"name\":\"valueSha256\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Set with valueBytes: sha256 (hex) of the whole original value.\"}]}";
    export const DeadLetterName = "dev.trident.DeadLetter";
    /**
     * An event that could not be processed (topic trident.dlq), with everything needed to replay it.
     */
    export interface DeadLetter {
        sourceTopic: string;
        sourcePartition: number;
        /**
         * Kafka offset (int64 as decimal string).
         */
        sourceOffset: string;
        /**
         * The original key bytes.
         *
         * Default: null
         */
        key: null | Buffer;
        /**
         * The original value bytes (null for a tombstone).
         *
         * Default: null
         */
        value: null | Buffer;
        /**
         * Default: {}
         */
        headers: {
            [index: string]: Buffer;
        };
        /**
         * The event's id when it could be read.
         *
         * Default: null
         */
        eventId: null | string;
        /**
         * Stable code, e.g. TEXT_EMPTY, SCHEMA_UNKNOWN.
         */
        errorCode: string;
        /**
         * Human-readable reason.
         */
        reason: string;
        /**
         * The stage that failed: decode, validate, infer, produce.
         */
        stage: string;
        failedAt: number;
        /**
         * Set when value holds only the first bytes of the original (too large to copy whole): the original's length.
         *
         * Default: null
         */
        valueBytes: null | number;
        /**
         * Set with valueBytes: sha256 (hex) of the whole original value.
         *
         * Default: null
         */
        valueSha256: null | string;
    }
}
