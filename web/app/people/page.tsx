import { PeopleView } from '../../src/people/people-view';

export default function PeoplePage() {
  return <PeopleView />;
}
