import { Field, GraphQLISODateTime, ID, Int, ObjectType } from 'type-graphql';

import { PageInfo } from './common.type';
import { TokenScopeGql, WebhookDeliveryStatusGql } from './enums';

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

@ObjectType({ description: 'One webhook call (one token, one event), with its attempts and outcome' })
export class WebhookDelivery {
  @Field(() => ID, { description: 'Also sent as the x-diarization-delivery header (the same at every attempt)' })
  id!: string;

  @Field(() => ID)
  tokenId!: string;

  @Field(() => ID)
  jobId!: string;

  @Field(() => String)
  event!: string;

  @Field(() => String, { description: 'Without user name or password' })
  url!: string;

  @Field(() => Int)
  attempts!: number;

  @Field(() => WebhookDeliveryStatusGql)
  status!: WebhookDeliveryStatusGql;

  @Field(() => Int, { nullable: true, description: "The receiver's HTTP status at the last attempt" })
  statusCode?: number;

  @Field(() => String, { nullable: true, description: 'Why the last attempt did not deliver' })
  reason?: string;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime)
  updatedAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  finishedAt?: Date;
}

@ObjectType()
export class WebhookDeliveryConnection {
  @Field(() => [WebhookDelivery])
  nodes!: WebhookDelivery[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  totalCount!: number;
}
