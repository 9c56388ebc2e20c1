import { Field, GraphQLISODateTime, ID, ObjectType } from 'type-graphql';

import { TokenScopeGql } from './enums';

@ObjectType()
export class ApiToken {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => TokenScopeGql)
  scope!: TokenScopeGql;

  @Field(() => String, { nullable: true, description: 'Notified (HMAC-signed) when a job ends' })
  webhookUrl?: string;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  revokedAt?: Date;
}

@ObjectType({ description: 'A new token: the secret is shown only here, once' })
export class CreatedToken {
  @Field(() => ApiToken)
  token!: ApiToken;

  @Field(() => String)
  secret!: string;

  @Field(() => String, {
    nullable: true,
    description: 'HMAC-SHA256 key of the webhook signatures (header x-diarization-signature: sha256=<hex of the body>), when a webhookUrl was given',
  })
  webhookSecret?: string;
}

@ObjectType({ description: 'Who is asking' })
export class Viewer {
  @Field(() => TokenScopeGql)
  scope!: TokenScopeGql;

  @Field(() => String)
  tokenName!: string;
}
