// Generated from schemas/avro/feedback.avsc by schemas/codegen.ts. Do not edit: run `npm run schemas:types`.
/* eslint-disable @typescript-eslint/no-namespace */

export type FeedbackEvent = DevTrident.FeedbackEvent;

export namespace DevTrident {
    export const EntitySpanSchema = "{\"type\":\"record\",\"name\":\"EntitySpan\",\"fields\":[{\"name\":\"label\",\"type\":\"string\"},{\"name\":\"start\",\"type\":\"int\"},{\"name\":\"end\",\"type\":\"int\"}]}";
    export const EntitySpanName = "dev.trident.EntitySpan";
    export interface EntitySpan {
        label: string;
        start: number;
        end: number;
    }
    export const AnswerSpanSchema = "{\"type\":\"record\",\"name\":\"AnswerSpan\",\"fields\":[{\"name\":\"question\",\"type\":\"string\"},{\"name\":\"start\",\"type\":\"int\"},{\"name\":\"end\",\"type\":\"int\"}]}";
    export const AnswerSpanName = "dev.trident.AnswerSpan";
    export interface AnswerSpan {
        question: string;
        start: number;
        end: number;
    }
    export const FeedbackEventSchema = "{\"type\":\"record\",\"name\":\"FeedbackEvent\",\"namespace\":\"dev.trident\",\"doc\":\"A labeled example for retraining (topic trident.feedback): the gold answer for one task on one text.\",\"fields\":[{\"name\":\"id\",\"type\":\"string\",\"doc\":\"The id of the text event (trident.text) this labels: `trident replay --labels feedback` joins gold labels to replayed texts by it. Several feedback events may label one text (one per task; the latest of a task wins, answers to one question are alternatives).\"},{\"name\":\"text\",\"type\":\"string\"},{\"name\":\"task\",\"type\":\"string\",\"doc\":\"sentiment, entities, answers or categories.\"},{\"name\":\"head\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"For categories: which head (e.g. banking77).\"},{\"name\":\"label\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"For sentiment and categories.\"},{\"name\":\"entities\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"EntitySpan\",\"fields\":[{\"name\":\"label\",\"type\":\"string\"},{\"name\":\"start\",\"type\":\"int\"},{\"name\":\"end\",\"type\":\"int\"}]}},\"default\":[],\"doc\":\"For entities: gold spans (UTF-16 offsets into text).\"},{\"name\":\"answer\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"AnswerSpan\",\"fields\":[{\"name\":\"question\",\"type\":\"string\"},{\"name\":\"start\",\"type\":\"int\"},{\"name\":\"end\",\"type\":\"int\"}]}],\"default\":null,\"doc\":\"For answers: the question and its gold span in text.\"},{\"name\":\"source\",\"type\":\"string\",\"doc\":\"Who or what gave the label (user id, annotator, tool).\"},{\"name\":\"modelVersion\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"The model version whose output is being corrected, if any.\"},{\"name\":\"createdAt\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}";
    export const FeedbackEventName = "dev.trident.FeedbackEvent";
    /**
     * A labeled example for retraining (topic trident.feedback): the gold answer for one task on one text.
     */
    export interface FeedbackEvent {
        /**
         * The id of the text event (trident.text) this labels: `trident replay --labels feedback` joins gold labels to replayed texts by it. Several feedback events may label one text (one per task; the latest of a task wins, answers to one question are alternatives).
         */
        id: string;
        text: string;
        /**
         * sentiment, entities, answers or categories.
         */
        task: string;
        /**
         * For categories: which head (e.g. banking77).
         *
         * Default: null
         */
        head: null | string;
        /**
         * For sentiment and categories.
         *
         * Default: null
         */
        label: null | string;
        /**
         * For entities: gold spans (UTF-16 offsets into text).
         *
         * Default: []
         */
        entities: DevTrident.EntitySpan[];
        /**
         * For answers: the question and its gold span in text.
         *
         * Default: null
         */
        answer: null | DevTrident.AnswerSpan;
        /**
         * Who or what gave the label (user id, annotator, tool).
         */
        source: string;
        /**
         * The model version whose output is being corrected, if any.
         *
         * Default: null
         */
        modelVersion: null | string;
        createdAt: number;
    }
}
