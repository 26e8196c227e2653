// Generated from schemas/avro/models.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type ModelVersion = DevTrident.ModelVersion;

export namespace DevTrident {
    export const ModelStatusSchema = "{\"type\":\"enum\",\"name\":\"ModelStatus\",\"symbols\":[\"candidate\",\"promoted\",\"rejected\",\"retired\"]}";
    export const ModelStatusName = "dev.trident.ModelStatus";
    export type ModelStatus = "candidate" | "promoted" | "rejected" | "retired";
    export const ModelVersionSchema = "{\"type\":\"record\",\"name\":\"ModelVersion\",\"namespace\":\"dev.trident\",\"doc\":\"A model version and its state (topic trident.models, compacted, keyed by name:version).\",\"fields\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\",\"type\":\"string\",\"doc\":\"Semantic version.\"},{\"name\":\"artifactDigest\",\"type\":\"string\",\"doc\":\"sha256 of the artifact's manifest.json.\"},{\"name\":\"location\",\"type\":\"string\",\"doc\":\"Where the artifact folder is (path or URI).\"},{\"name\":\"metrics\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"map\",\"values\":\"double\"}},\"default\":{},\"doc\":\"split -> metric -> value, e.g. sst2/dev -> accuracy.\"},{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"ModelStatus\",\"symbols\":[\"candidate\",\"promoted\",\"rejected\",\"retired\"]}},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},{\"name\":\"promotedAt\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}],\"default\":null}]}";
    export const ModelVersionName = "dev.trident.ModelVersion";
    /**
     * A model version and its state (topic trident.models, compacted, keyed by name:version).
     */
    export interface ModelVersion {
        name: string;
        /**
         * Semantic version.
         */
        version: string;
        /**
         * sha256 of the artifact's manifest.json.
         */
        artifactDigest: string;
        /**
         * Where the artifact folder is (path or URI).
         */
        location: string;
        /**
         * split -> metric -> value, e.g. sst2/dev -> accuracy.
         *
         * Default: {}
         */
        metrics: {
            [index: string]: {
                [index: string]: number;
            };
        };
        status: DevTrident.ModelStatus;
        createdAt: number;
        /**
         * Default: null
         */
        promotedAt: null | number;
    }
}
