import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';

import { InvalidArgumentError, NotFoundError } from '../../common/errors';
import { ApiTokenRecord } from '../../store/types';
import { GraphQLContext } from '../context';
import { TokenScopeGql } from '../types/enums';
import { ApiToken, CreatedToken, Viewer } from '../types/token.type';

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
    if (webhookUrl && !/^https?:\/\//.test(webhookUrl)) throw new InvalidArgumentError(`webhookUrl must be an http(s) URL; got "${webhookUrl}".`);
    const { token, secret, webhookSecret } = await ctx.platform.tokens.create(trimmed, scope, webhookUrl ?? undefined);
    return { token: toToken(token), secret, webhookSecret };
  }

  @Authorized('admin')
  @Mutation(() => ApiToken)
  async revokeToken(@Ctx() ctx: GraphQLContext, @Arg('id', () => ID) id: string): Promise<ApiToken> {
    const token = await ctx.platform.store.revokeToken(id);
    if (!token) throw new NotFoundError('token', id);
    return toToken(token);
  }
}
