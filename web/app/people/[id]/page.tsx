import { PersonView } from '../../../src/people/person-view';

export default async function PersonPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <PersonView id={decodeURIComponent(id)} />;
}
