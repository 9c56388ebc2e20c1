/** API tokens, stored by hash. */
import { ConflictError } from '../../common/errors';
import { toToken } from '../rows';
import type { ApiTokenRecord } from '../types';
import { nowIso, RepositoryContext } from './shared';

export class TokenRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insertToken(token: Omit<ApiTokenRecord, 'createdAt'>): Promise<ApiTokenRecord> {
    const row = await this.ctx.guard(
      () =>
        this.ctx.db
          .insertInto('api_tokens')
          .values({
            id: token.id,
            name: token.name,
            token_hash: token.tokenHash,
            scope: token.scope,
            webhook_url: token.webhookUrl ?? null,
            webhook_secret: token.webhookSecret ?? null,
            created_at: nowIso(),
            revoked_at: token.revokedAt ?? null,
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      { unique: () => new ConflictError(`A token with id "${token.id}" or the same secret already exists.`) },
    );
    return toToken(row);
  }

  async tokenByHash(tokenHash: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.ctx.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && toToken(row);
  }

  async listTokens(): Promise<ApiTokenRecord[]> {
    const rows = await this.ctx.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  /** Idempotent: a second revoke keeps the first revocation time. */
  async revokeToken(id: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.ctx.db
      .updateTable('api_tokens')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(nowIso())) }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toToken(row);
  }
}
