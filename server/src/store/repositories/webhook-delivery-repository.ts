/** Webhook delivery records: one row per token and event, updated after each attempt. */
import { ExpressionBuilder, Updateable } from 'kysely';

import { NotFoundError } from '../../common/errors';
import { decodeCursor, encodeCursor } from '../cursor';
import { Database, toWebhookDelivery, WebhookDeliveriesTable } from '../rows';
import type { Page, WebhookDeliveryRecord, WebhookDeliveryUpdate } from '../types';
import { checkFirst, count, keysetAfter, nowIso, RepositoryContext, toPage } from './shared';

const ORDERING = 'webhook_deliveries.created_desc';

export class WebhookDeliveryRepository {
  constructor(private readonly ctx: RepositoryContext) {}

  async insertWebhookDelivery(delivery: Pick<WebhookDeliveryRecord, 'id' | 'tokenId' | 'jobId' | 'event' | 'url'>): Promise<WebhookDeliveryRecord> {
    const now = nowIso();
    const row = await this.ctx.guard(
      () =>
        this.ctx.db
          .insertInto('webhook_deliveries')
          .values({
            id: delivery.id,
            token_id: delivery.tokenId,
            job_id: delivery.jobId,
            event: delivery.event,
            url: delivery.url,
            attempts: 0,
            status: 'PENDING',
            status_code: null,
            reason: null,
            created_at: now,
            updated_at: now,
            finished_at: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      { foreignKey: () => new NotFoundError('token', delivery.tokenId) },
    );
    return toWebhookDelivery(row);
  }

  async updateWebhookDelivery(id: string, patch: WebhookDeliveryUpdate): Promise<WebhookDeliveryRecord | undefined> {
    // undefined = unchanged, null = cleared.
    const now = nowIso();
    const set: Updateable<WebhookDeliveriesTable> = { updated_at: now };
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.statusCode !== undefined) set.status_code = patch.statusCode;
    if (patch.reason !== undefined) set.reason = patch.reason;
    if (patch.finished) set.finished_at = now;
    const row = await this.ctx.db.updateTable('webhook_deliveries').set(set).where('id', '=', id).returningAll().executeTakeFirst();
    return row && toWebhookDelivery(row);
  }

  async stalePendingWebhookDeliveries(updatedBefore: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'PENDING')
      .where('updated_at', '<', updatedBefore)
      .orderBy('updated_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toWebhookDelivery);
  }

  async claimWebhookDelivery(id: string, seenUpdatedAt: string): Promise<WebhookDeliveryRecord | undefined> {
    // The row decides: of two processes that saw the same stale row, only the first update matches.
    const row = await this.ctx.db
      .updateTable('webhook_deliveries')
      .set({ updated_at: nowIso() })
      .where('id', '=', id)
      .where('status', '=', 'PENDING')
      .where('updated_at', '=', seenUpdatedAt)
      .returningAll()
      .executeTakeFirst();
    return row && toWebhookDelivery(row);
  }

  async getWebhookDelivery(id: string): Promise<WebhookDeliveryRecord | undefined> {
    const row = await this.ctx.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toWebhookDelivery(row);
  }

  async listWebhookDeliveries(filter: { tokenId?: string; jobId?: string }, first: number, after?: string): Promise<Page<WebhookDeliveryRecord>> {
    checkFirst(first);
    const where = (eb: ExpressionBuilder<Database, 'webhook_deliveries'>) => {
      const conditions = [];
      if (filter.tokenId !== undefined) conditions.push(eb('webhook_deliveries.token_id', '=', filter.tokenId));
      if (filter.jobId !== undefined) conditions.push(eb('webhook_deliveries.job_id', '=', filter.jobId));
      return eb.and(conditions);
    };
    let query = this.ctx.db.selectFrom('webhook_deliveries').selectAll().where(where);
    if (after !== undefined)
      query = query.where(keysetAfter('webhook_deliveries.created_at', 'webhook_deliveries.id', 'desc', decodeCursor(after, ORDERING, 'string')));
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(first + 1)
      .execute();
    const totalCount = await count(this.ctx.db.selectFrom('webhook_deliveries').where(where));
    return toPage(rows, first, totalCount, toWebhookDelivery, (row) => encodeCursor(ORDERING, row.created_at, row.id));
  }
}
