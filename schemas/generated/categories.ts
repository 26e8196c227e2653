// Generated from schemas/avro/categories.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type CategoriesResult = DevTrident.CategoriesResult;

export namespace DevTrident {
    export const CategorySchema = "{\"type\":\"record\",\"name\":\"Category\",\"fields\":[{\"name\":\"label\",\"type\":\"string\"},{\"name\":\"score\",\"type\":\"double\"}]}";
    export const CategoryName = "dev.trident.Category";
    export interface Category {
        label: string;
        score: number;
    }
    export const CategoriesResultSchema = "{\"type\":\"record\",\"name\":\"CategoriesResult\",\"namespace\":\"dev.trident\",\"doc\":\"Custom classification heads' top labels (topic trident.categories).\",\"fields\":[{\"name\":\"id\",\"type\":\"string\",\"doc\":\"The input event's id.\"},{\"name\":\"key\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"tenant\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"modelName\",\"type\":\"string\"},{\"name\":\"modelVersion\",\"type\":\"string\"},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"The input event's createdAt.\"},{\"name\":\"processedAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"When the processor produced this result; end-to-end latency = processedAt - createdAt.\"},{\"name\":\"categories\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"Category\",\"fields\":[{\"name\":\"label\",\"type\":\"string\"},{\"name\":\"score\",\"type\":\"double\"}]}}},\"doc\":\"Head name -> labels, best first.\"}]}";
    export const CategoriesResultName = "dev.trident.CategoriesResult";
    /**
     * Custom classification heads' top labels (topic trident.categories).
     */
    export interface CategoriesResult {
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
         * Head name -> labels, best first.
         */
        categories: {
            [index: string]: DevTrident.Category[];
        };
    }
}
