import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, GraphQLISODateTime, ID, InputType, ObjectType } from 'type-graphql';

@ObjectType({ description: 'A person whose voice can be enrolled and recognised in meetings' })
export class Person {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true, description: "The person's id in another system (CRM, directory)" })
  externalId?: string;

  @Field(() => GraphQLJSONObject)
  metadata!: Record<string, unknown>;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;
}

@ObjectType({ description: 'One enrolled voice sample of a person (its embedding stays on the server)' })
export class Enrollment {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'clip (uploaded audio) or speaker (a diarized meeting speaker)' })
  source!: string;

  @Field(() => Float)
  speechSeconds!: number;

  @Field(() => String)
  modelName!: string;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;
}

@InputType()
export class PersonInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  externalId?: string;

  @Field(() => GraphQLJSONObject, { nullable: true })
  metadata?: Record<string, unknown>;
}
