# Trident's processes (trident serve, trident gateway, the CLI) as one image, built in two stages:
# `build` installs every dependency (the TypeScript compiler is a devDependency) and compiles dist/;
# `runtime` holds production dependencies, dist/, the files dist/ reads at run time and the default
# model artifact only, and runs as the unprivileged `node` user.
# Build: docker build -t trident .   Run: docker run --rm trident predict "Ada Lovelace lived in London."

FROM node:20-bookworm-slim AS build
WORKDIR /app
# onnxruntime-node's install script would download CUDA binaries; the CPU ones ship in the package.
# tfjs-node's native TensorFlow (scripts/install-tfjs.js: 450 MB, needs python3) stays out of the
# image: `trident learn` in a container trains on tfjs-wasm and says so.
ENV ONNXRUNTIME_NODE_INSTALL=skip TRIDENT_TFJS_NODE=skip
# The whole context (see .dockerignore) before installing: .npmrc makes `npm ci` run no lifecycle
# scripts, so scripts/setup.js then applies patches/ to node_modules and compiles dist/.
COPY . .
# Dev dependencies are needed to build; pruning them afterwards leaves the production packages as
# installed and patched, so the runtime stage copies node_modules instead of installing (and
# patching) a second time.
RUN npm ci --no-audit --no-fund \
 && node scripts/setup.js --build \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production ONNXRUNTIME_NODE_INSTALL=skip
# The default model is the artifact whose manifest was created last (model/cli.ts newestArtifact);
# a test checks this name against model/artifacts/. Other models: mount one and pass --model DIR.
ARG MODEL_ARTIFACT=trident-multitask-1.2.0
# `node` (uid 1000 in the base image), by number: Kubernetes' runAsNonRoot can only check a numeric user.
USER 1000:1000
# BuildKit creates a WORKDIR as the current USER, so /data belongs to `node`: a volume mounted there
# (the gateway's tokens file in docker-compose.yml) starts writable for it.
WORKDIR /data
WORKDIR /app
# Owned by root and read-only for `node`: the process cannot change its own code or model.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/scripts/setup.js ./scripts/
COPY --from=build /app/dist ./dist
# Read at run time next to dist/: Avro contracts, the gateway's live page, the demo texts.
COPY --from=build /app/schemas/avro ./schemas/avro
COPY --from=build /app/gateway/public ./gateway/public
COPY --from=build /app/producers/demo-texts.jsonl ./producers/
COPY --from=build /app/model/artifacts/${MODEL_ARTIFACT} ./model/artifacts/${MODEL_ARTIFACT}
ENTRYPOINT ["node", "bin/trident.js"]
