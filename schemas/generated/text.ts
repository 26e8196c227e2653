// Generated from schemas/avro/text.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type TextEvent = DevTrident.TextEvent;

export namespace DevTrident {
    export const TextEventSchema = "{\"type\":\"record\",\"name\":\"TextEvent\",\"namespace\":\"dev.trident\",\"doc\":\"An input text to analyse (topic trident.text).\",\"fields\":[{\"name\":\"id\",\"type\":\"string\",\"doc\":\"Caller-chosen unique id; results carry it back.\"},{\"name\":\"text\",\"type\":\"string\"},{\"name\":\"tasks\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"string\"}],\"default\":null,\"doc\":\"Tasks wanted: sentiment, entities, answers, categories. null = all built-in tasks.\"},{\"name\":\"questions\",\"type\":{\"type\":\"array\",\"items\":\"string\"},\"default\":[],\"doc\":\"Questions for the answers task, answered from text.\"},{\"name\":\"key\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Routing/partitioning key; results keep it.\"},{\"name\":\"tenant\",\"type\":[\"null\",\"string\"],\"default\":null},{\"name\":\"metadata\",\"type\":{\"type\":\"map\",\"values\":\"string\"},\"default\":{}},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"},\"doc\":\"When the producer created the event (ms since epoch).\"}]}";
    export const TextEventName = "dev.trident.TextEvent";
    /**
     * An input text to analyse (topic trident.text).
     */
    export interface TextEvent {
        /**
         * Caller-chosen unique id; results carry it back.
         */
        id: string;
        text: string;
        /**
         * Tasks wanted: sentiment, entities, answers, categories. null = all built-in tasks.
         *
         * Default: null
         */
        tasks: null | string[];
        /**
         * Questions for the answers task, answered from text.
         *
         * Default: []
         */
        questions: string[];
        /**
         * Routing/partitioning key; results keep it.
         *
         * Default: null
         */
        key: null | string;
        /**
         * Default: null
         */
        tenant: null | string;
        /**
         * Default: {}
         */
        metadata: {
            [index: string]: string;
        };
        /**
         * When the producer created the event (ms since epoch).
         */
        createdAt: number;
    }
}
