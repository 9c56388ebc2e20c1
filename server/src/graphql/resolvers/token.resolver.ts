import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';

import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import { resolveWebhookTarget } from '../../jobs/webhook-address-policy';
import { ApiTokenRecord, WebhookDeliveryRecord } from '../../store/types';
import { GraphQLContext } from '../context';
import { TokenScopeGql, WebhookDeliveryStatusGql } from '../types/enums';
import { ApiToken, CreatedToken, Viewer, WebhookDelivery, WebhookDeliveryConnection } from '../types/token.type';

const MAX_DELIVERY_PAGE = 100;
const MAX_WEBHOOK_URL_LENGTH = 2000;

function toToken(t: ApiTokenRecord): ApiToken {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope as TokenScopeGql,
    webhookUrl: t.webhookUrl,
    createdAt: new Date(t.createdAt),
    revokedAt: t.revokedAt ? new Date(t.revokedAt) : undefined,
  };
}

function toDelivery(d: WebhookDeliveryRecord): WebhookDelivery {
  return {
    id: d.id,
    tokenId: d.tokenId,
    jobId: d.jobId,
    event: d.event,
    url: d.url,
    attempts: d.attempts,
    status: d.status as WebhookDeliveryStatusGql,
    statusCode: d.statusCode,
    reason: d.reason,
    createdAt: new Date(d.createdAt),
    updatedAt: new Date(d.updatedAt),
    finishedAt: d.finishedAt ? new Date(d.finishedAt) : undefined,
  };
}

/**
 * Refuses a webhook URL the server would not deliver to (address policy), so the mistake shows on
 * the mutation rather than later on a delivery record. A name that does not resolve yet is
 * accepted: every delivery resolves and checks it again.
 */
async function checkWebhookUrl(ctx: GraphQLContext, webhookUrl: string): Promise<void> {
  if (webhookUrl.length > MAX_WEBHOOK_URL_LENGTH)
    throw new InvalidArgumentError(`webhookUrl has ${webhookUrl.length} characters; at most ${MAX_WEBHOOK_URL_LENGTH}.`);
  const verdict = await resolveWebhookTarget(webhookUrl, { allowPrivate: ctx.platform.config.webhookAllowPrivate });
  if (verdict.allowed || verdict.retryable) return;
  throw new InvalidArgumentError(`webhookUrl refused: ${verdict.reason}. Give an http(s) URL of a receiver on a public address.`);
}

@Resolver()
export class TokenResolver {
  @Authorized()
  @Query(() => Viewer, { description: 'The scope of the token in use (the web app adapts to it)' })
  viewer(@Ctx() ctx: GraphQLContext): Viewer {
    return { scope: ctx.viewer.scope as TokenScopeGql, tokenName: ctx.viewer.tokenName };
  }

  @Authorized('admin')
  @Query(() => [ApiToken])
  async tokens(@Ctx() ctx: GraphQLContext): Promise<ApiToken[]> {
    return (await ctx.platform.store.listTokens()).map(toToken);
  }

  @Authorized('admin')
  @Mutation(() => CreatedToken, { description: 'A new API token; its secret is in the answer and nowhere else' })
  async createToken(
    @Ctx() ctx: GraphQLContext,
    @Arg('name', () => String) name: string,
    @Arg('scope', () => TokenScopeGql) scope: TokenScopeGql,
    @Arg('webhookUrl', () => String, { nullable: true }) webhookUrl?: string,
  ): Promise<CreatedToken> {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > 100) throw new InvalidArgumentError('A token name has 1 to 100 characters.');
    if (webhookUrl) await checkWebhookUrl(ctx, webhookUrl);
    const { token, secret, webhookSecret } = await ctx.platform.tokens.create(trimmed, scope, webhookUrl ?? undefined);
    return { token: toToken(token), secret, webhookSecret };
  }

  @Authorized('admin')
  @Query(() => WebhookDeliveryConnection, { description: 'Webhook calls, newest first, with their attempts and outcome; narrow with tokenId or jobId' })
  async webhookDeliveries(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { defaultValue: 20 }) first = 20,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('tokenId', () => ID, { nullable: true }) tokenId?: string,
    @Arg('jobId', () => ID, { nullable: true }) jobId?: string,
  ): Promise<WebhookDeliveryConnection> {
    if (first < 1 || first > MAX_DELIVERY_PAGE) throw new InvalidArgumentError(`first must be between 1 and ${MAX_DELIVERY_PAGE}; got ${first}.`);
    const page = await ctx.platform.store.listWebhookDeliveries({ tokenId: tokenId ?? undefined, jobId: jobId ?? undefined }, first, after ?? undefined);
    return { nodes: page.items.map(toDelivery), pageInfo: { endCursor: page.endCursor, hasNextPage: page.hasNextPage }, totalCount: page.totalCount };
  }

  @Authorized('admin')
  @Mutation(() => ApiToken)
  async revokeToken(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<ApiToken> {
    const token = await ctx.platform.store.revokeToken(id);
    if (!token) throw new NotFoundError('token', id);
    return toToken(token);
  }
}
