import { Field, Float, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Cursor pagination: pass endCursor as `after` for the next page' })
export class PageInfo {
  @Field(() => String, { nullable: true })
  endCursor?: string;

  @Field(() => Boolean)
  hasNextPage!: boolean;
}

@ObjectType()
export class TimeRange {
  @Field(() => Float, { description: 'Seconds from the start of the recording' })
  start!: number;

  @Field(() => Float)
  end!: number;
}
