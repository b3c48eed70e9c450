# recserve: multi-stage build. The runtime image holds production dependencies and the compiled JS only.
# Build: docker build -t recserve .
# Run:   docker run -p 8080:8080 -v /srv/feed:/feed:ro -e RECSERVE_CONFIG=/config/recserve.yaml -v $PWD/config:/config:ro recserve

# Production dependencies; the native addon (native/: the scans and the mapping of model files, via npm's install
# script) compiles here, so this stage has the build tools. Node 24: the newest LTS line the tests run on.
FROM node:24-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
COPY scripts/build-native.mjs ./scripts/
# RECSERVE_REQUIRE_NATIVE: a failed build of the native scans fails the image build (on x86-64 and ARM64 alike).
RUN RECSERVE_REQUIRE_NATIVE=1 npm ci --omit=dev --no-audit --no-fund && test -f build/Release/recserve_kernel.node

# Compile TypeScript with the full dependency set.
FROM deps AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    RECSERVE_HOST=0.0.0.0 \
    RECSERVE_PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/build/Release/recserve_kernel.node ./build/Release/
COPY --from=build /app/dist ./dist
COPY package.json ./
# The embedded demo model, so the image answers with no feed mounted: `docker run recserve serve --feed models --model demo`.
COPY models ./models
# The feed (read-only is enough unless raw Spark saves are imported: then also mount a writable cache).
VOLUME ["/feed"]
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.RECSERVE_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "dist/recserve.mjs"]
# With RECSERVE_CONFIG set, `serve` reads that file; otherwise name the feed and models here.
CMD ["serve", "--feed", "/feed", "--model", "als"]
