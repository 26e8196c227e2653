# Trident's processes (trident serve, trident gateway, the CLI) for docker-compose.
FROM node:20-bookworm-slim
WORKDIR /app
# onnxruntime-node's install script would download CUDA binaries; the CPU ones ship in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
COPY . .
RUN npm ci --no-audit --no-fund && npm cache clean --force
ENTRYPOINT ["node", "bin/trident.js"]
