import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { UnauthenticatedError } from '../common/errors';
import { ApiTokenRecord, Store, TokenScope } from '../store/types';

/** Who a request acts as. */
export interface Viewer {
  scope: TokenScope;
  tokenName: string;
  tokenId?: string;
}

const TOKEN_PREFIX = 'mdp_';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * The admin token: ADMIN_TOKEN when set, otherwise one generated on first start and kept in
 * DATA_DIR/admin-token (owner-only). Returns where it lives, for the start-up banner.
 */
export function ensureAdminToken(dataDir: string, fromEnv?: string): { secret: string; source: string; created: boolean } {
  if (fromEnv) return { secret: fromEnv, source: 'the ADMIN_TOKEN environment variable', created: false };
  const file = path.join(dataDir, 'admin-token');
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), source: file, created: false };
  mkdirSync(dataDir, { recursive: true });
  const secret = newTokenSecret();
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secret, source: file, created: true };
}

/** Checks `Authorization: Bearer <token>` against the admin token and the stored API tokens. */
export class TokenAuthenticator {
  private readonly adminHash: Buffer;

  constructor(
    private readonly store: Store,
    adminSecret: string,
  ) {
    this.adminHash = Buffer.from(hashToken(adminSecret), 'hex');
  }

  async authenticate(authorization: string | undefined): Promise<Viewer> {
    if (!authorization) throw new UnauthenticatedError('Missing token: send "Authorization: Bearer <token>" (the admin token is in DATA_DIR/admin-token).');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new UnauthenticatedError('Malformed Authorization header: expected "Bearer <token>".');
    const hash = hashToken(match[1]);
    const hashBytes = Buffer.from(hash, 'hex');
    if (timingSafeEqual(hashBytes, this.adminHash)) return { scope: 'admin', tokenName: 'admin' };
    const record = await this.store.tokenByHash(hash);
    if (!record || record.revokedAt) throw new UnauthenticatedError('Unknown or revoked token. Ask an admin for a new one.');
    return { scope: record.scope, tokenName: record.name, tokenId: record.id };
  }

  async create(name: string, scope: TokenScope, webhookUrl?: string): Promise<{ token: ApiTokenRecord; secret: string; webhookSecret?: string }> {
    const secret = newTokenSecret();
    const webhookSecret = webhookUrl ? 'whsec_' + randomBytes(24).toString('base64url') : undefined;
    const token = await this.store.insertToken({ id: randomUUID(), name, tokenHash: hashToken(secret), scope, webhookUrl, webhookSecret });
    return { token, secret, webhookSecret };
  }
}

/** read < admin: admin may do everything read may. */
export function scopeAllows(have: TokenScope, need: TokenScope): boolean {
  return have === 'admin' || need === 'read';
}
