// Generated from schemas/avro/models.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type ModelVersion = DevTrident.ModelVersion;

export namespace DevTrident {
    export const ModelStatusSchema = "{\"type\":\"enum\",\"name\":\"ModelStatus\",\"symbols\":[\"candidate\",\"promoted\",\"rejected\",\"retired\",\"production\"],\"default\":\"candidate\"}";
    export const ModelStatusName = "dev.trident.ModelStatus";
    export type ModelStatus = "candidate" | "promoted" | "rejected" | "retired" | "production";
    export const ModelVersionSchema = "{\"type\":\"record\",\"name\":\"ModelVersion\",\"namespace\":\"dev.trident\",\"doc\":\"A model version and its state (topic trident.models, compacted, keyed by name:version). Every change of a version is a new record; the current production version is the version of the last record with status production (log order decides).\",\"fields\":[{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"version\",\"type\":\"string\",\"doc\":\"Semantic version.\"},{\"name\":\"artifactDigest\",\"type\":\"string\",\"doc\":\"sha256 of the artifact's manifest.json.\"},{\"name\":\"location\",\"type\":\"string\",\"doc\":\"Where the artifact folder is (path or URI).\"},{\"name\":\"metrics\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"map\",\"values\":\"double\"}},\"default\":{},\"doc\":\"split -> metric -> value, e.g. sst2/dev -> accuracy.\"},{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"ModelStatus\",\"symbols\":[\"candidate\",\"promoted\",\"rejected\",\"retired\",\"production\"],\"default\":\"candidate\"},\"doc\":\"candidate: registered and verified; production: promoted (the last such record is the production version); rejected: a processor refused it (reason says why); retired: taken out of use. promoted: older writers' name for production.\"},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},{\"name\":\"promotedAt\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}],\"default\":null},{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Why: a forced promotion's reason, a rollback, or what a processor found wrong with a rejected version.\"},{\"name\":\"changedBy\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Who wrote this record (user@host, or processor <client id>).\"},{\"name\":\"changedAt\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}],\"default\":null,\"doc\":\"When this record was written.\"},{\"name\":\"previousVersion\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"For a production record: the production version it replaced (what rollback returns to).\"},{\"name\":\"forced\",\"type\":\"boolean\",\"default\":false,\"doc\":\"A production record written with --force past the metrics gate.\"}]}";
    export const ModelVersionName = "dev.trident.ModelVersion";
    /**
     * A model version and its state (topic trident.models, compacted, keyed by name:version). Every change of a version is a new record; the current production version is the version of the last record with status production (log order decides).
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
        /**
         * candidate: registered and verified; production: promoted (the last such record is the production version); rejected: a processor refused it (reason says why); retired: taken out of use. promoted: older writers' name for production.
         */
        status: DevTrident.ModelStatus;
        createdAt: number;
        /**
         * Default: null
         */
        promotedAt: null | number;
        /**
         * Why: a forced promotion's reason, a rollback, or what a processor found wrong with a rejected version.
         *
         * Default: null
         */
        reason: null | string;
        /**
         * Who wrote this record (user@host, or processor <client id>).
         *
         * Default: null
         */
        changedBy: null | string;
        /**
         * When this record was written.
         *
         * Default: null
         */
        changedAt: null | number;
        /**
         * For a production record: the production version it replaced (what rollback returns to).
         *
         * Default: null
         */
        previousVersion: null | string;
        /**
         * A production record written with --force past the metrics gate.
         *
         * Default: false
         */
        forced: boolean;
    }
}
