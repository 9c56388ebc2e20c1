import path from 'node:path';
import type { NextConfig } from 'next';

// Packages are hoisted to the repository root (npm workspaces), so that is the project root for
// Turbopack and file tracing. No server address is baked in: the API is reached through same-origin
// route handlers (app/api/**) that read API_PORT at request time.
const root = path.resolve(__dirname, '..');

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: { root },
  outputFileTracingRoot: root,
  // The browser detects a transcript's format with the server's own dependency-free module
  // (server/src/transcripts/detect.ts) rather than a copy of it.
  experimental: { externalDir: true },
};

export default config;
